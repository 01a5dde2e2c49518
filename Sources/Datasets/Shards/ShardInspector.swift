import Foundation
import Shards
import Support

/// Reads one synth shard held in memory and checks everything the manifest promises about it:
/// the exact tar layout, member names and order, that keys lie in the shard's range and carry the
/// class the build plan puts there, that .cls, .json and the manifest agree on the label, that the
/// filter's numbers are consistent (confidence = probs[class] above the threshold, argmax = class;
/// with label models, probs are theirs: a probability vector, and confidence the filter's alone),
/// and that every PNG decodes to the dataset's image shape. Used by `verify` and by the `shards:`
/// loader (which keeps the decoded samples).
struct ShardInspector {
    let manifest: Manifest
    /// Keep decoded pixels, labels and probabilities.
    let keep: Bool

    struct Problem: Error {
        /// Key of the sample the problem is in (nil: the shard as a whole).
        let key: String?
        let message: String
    }

    struct Contents {
        var labels: [Int] = []
        var pixels: [UInt8] = []
        var probs: [Float] = []
        var samples = 0
    }

    func inspect(_ bytes: [UInt8], shard s: Int) throws -> Contents {
        let entry = manifest.shardlist[s]
        let build = manifest.build
        let classCount = manifest.classes.count
        let shape = manifest.imageShape
        let imageBytes = shape.reduce(1, *)
        let filtered = manifest.filter?.enabled == true
        let labelled = build.labelModels != nil
        let threshold = Float(manifest.filter?.threshold ?? 0)
        let selected = build.classes
        let lo = entry.firstIndex, hi = min(entry.firstIndex + build.shardSize, build.plannedSamples)

        var out = Contents()
        var counts = [Int](repeating: 0, count: classCount)
        try bytes.withUnsafeBytes { raw in
            let members: [UstarLayout.Member]
            do { members = try UstarLayout.scan(raw) } catch let p as UstarLayout.Problem {
                throw Problem(key: p.member.map(Self.keyOf), message: p.message)
            }
            guard members.count % 3 == 0 else {
                throw Problem(key: members.last.map { Self.keyOf($0.name) }, message: "\(members.count) members, not cls/json/png triples")
            }
            var previous = -1
            var i = 0
            while i < members.count {
                let key = Self.keyOf(members[i].name)
                func fail(_ m: String) -> Problem { Problem(key: key, message: m) }
                let expected = [key + ".cls", key + ".json", key + ".png"]
                for k in 0..<3 where members[i + k].name != expected[k] {
                    throw fail("member '\(members[i + k].name)' where '\(expected[k])' belongs (members must be KEY.cls, KEY.json, KEY.png)")
                }
                guard key.utf8.count == 9, key.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let index = Int(key) else {
                    throw fail("key is not a 9-digit sample index")
                }
                guard index > previous else { throw fail("keys out of order") }
                previous = index
                guard index >= lo && index < hi else { throw fail("key outside the shard's range \(lo)..<\(hi)") }

                let clsText = String(decoding: raw[members[i].data], as: UTF8.self)
                guard let cls = Int(clsText), String(cls) == clsText, cls >= 0, cls < classCount else {
                    throw fail("cls '\(clsText.prefix(20))' is not a class index below \(classCount)")
                }
                if build.command == "build" {
                    let planned = selected[index % selected.count]
                    guard cls == planned else { throw fail("class \(cls) where the build plan puts class \(planned)") }
                } else {
                    guard index == lo + out.samples else { throw fail("gap in the keys of packed data") }
                }
                counts[cls] += 1

                let record: SampleRecord
                switch SampleRecord.parse(Array(raw[members[i + 1].data])) {
                case .success(let r): record = r
                case .failure(let f): throw fail(f.reason)
                }
                guard record.classIndex == cls else { throw fail("json class \(record.classIndex) but cls \(cls)") }
                guard record.className == manifest.classes[cls] else {
                    throw fail("json class_name '\(record.className)' but class \(cls) is '\(manifest.classes[cls])'")
                }
                guard record.source == build.source else { throw fail("json source '\(record.source)' but the build's is '\(build.source)'") }
                if filtered {
                    guard let c = record.confidence else { throw fail("json confidence missing") }
                    guard c > threshold else { throw fail("confidence \(c) is not above the threshold \(threshold)") }
                } else if record.confidence != nil {
                    throw fail("json has a filter confidence but the build has no filter")
                }
                if manifest.storesProbs {
                    guard let probs = record.probs, probs.count == classCount else {
                        throw fail("json probs missing or not \(classCount) values")
                    }
                    guard probs.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw fail("json probs outside [0, 1]") }
                    if labelled {
                        // The label models' mean probabilities: they sum to 1 up to float rounding
                        // and the json's shortest decimal form; their argmax may be any class.
                        let sum = probs.reduce(0, +)
                        guard abs(sum - 1) < 1e-3 else { throw fail("json probs sum to \(sum), not 1") }
                    } else {
                        guard record.confidence == probs[cls] else { throw fail("json confidence is not probs[class]") }
                        var best = 0
                        for j in 1..<classCount where probs[j] > probs[best] { best = j }
                        guard best == cls else { throw fail("the filter's most probable class is \(best), not \(cls)") }
                    }
                    if keep { out.probs.append(contentsOf: probs) }
                } else if record.probs != nil {
                    throw fail("json has probs but the build has no filter and no label models")
                }

                let image: PNG.Image
                do { image = try PNG.decode(Array(raw[members[i + 2].data]), path: key + ".png") } catch let e as SynthError {
                    throw fail(e.message.hasPrefix(key) ? String(e.message.dropFirst(key.count + 6)) : e.message)
                }
                guard image.channels == shape[0], image.height == shape[1], image.width == shape[2] else {
                    throw fail("png is \(image.channels)x\(image.height)x\(image.width), the dataset's images are \(shape.map(String.init).joined(separator: "x"))")
                }
                if keep {
                    precondition(image.pixels.count == imageBytes)
                    out.pixels.append(contentsOf: image.pixels)
                    out.labels.append(cls)
                }
                out.samples += 1
                i += 3
            }
        }
        guard out.samples == entry.nsamples else {
            throw Problem(key: nil, message: "holds \(out.samples) samples, the manifest says \(entry.nsamples)")
        }
        guard counts == entry.classCounts else {
            throw Problem(key: nil, message: "class counts \(counts) differ from the manifest's \(entry.classCounts)")
        }
        return out
    }

    static func keyOf(_ member: String) -> String {
        String(member.prefix { $0 != "." })
    }
}
