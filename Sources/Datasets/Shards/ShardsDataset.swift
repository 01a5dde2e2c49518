import Foundation
import Shards
import Support

/// The `shards:DIR` reader. With a manifest.json (a synth dataset) every shard must match its
/// manifest entry (size and SHA-256) and pass the same checks as `synth verify`, or the directory
/// is refused before anything trains on it; the per-sample "probs" become `Dataset.softLabels`.
/// Without one, DIR is refused when it is an unfinished build (`checkFinished`), else read as a
/// foreign WebDataset: every `*.tar` in byte-wise name order,
/// samples grouped by key, each needing a `.png` and a `.cls` (other members are ignored); class
/// names are then the label numbers.
public enum ShardsDataset {
    public static func load(dir: String) throws -> Dataset {
        guard Files.isDirectory(dir) else { throw SynthError.file(dir, "no such directory") }
        let manifestPath = Files.join(dir, ShardFiles.manifest)
        if Files.exists(manifestPath) { return try loadSynth(dir: dir, manifestPath: manifestPath) }
        try checkFinished(dir: dir)
        return try loadForeign(dir: dir)
    }

    /// DESIGN "unfinished builds": a directory without manifest.json that holds what only a synth
    /// build leaves behind (worker parts, resume records, partial shards) is an interrupted build,
    /// not a foreign WebDataset: every reader refuses it (exit 2) rather than use the shards that
    /// happen to be complete, and says how to finish it. Directories without those pieces stay
    /// readable as foreign WebDatasets.
    public static func checkFinished(dir: String) throws {
        guard !Files.exists(Files.join(dir, ShardFiles.manifest)) else { return }
        let files = try Files.list(dir)
        if files.contains(where: { ShardFiles.parsePart($0) != nil }) {
            throw SynthError.file(dir, "holds worker parts but no manifest.json: run synth merge \(dir) once every worker has finished (rerun an interrupted worker's synth build with --resume)")
        }
        if files.contains(where: ShardFiles.isUnfinishedBuildPiece) {
            throw SynthError.file(dir, "an unfinished build (synth's shards but no manifest.json): rerun its synth build command with --resume to finish it")
        }
    }

    static func loadSynth(dir: String, manifestPath: String) throws -> Dataset {
        let manifest = try Manifest.read(manifestPath)
        try ShardVerifier.checkStructure(manifest, path: manifestPath)
        let count = manifest.shardlist.count
        let inspector = ShardInspector(manifest: manifest, keep: true)
        let results = Parallel.map(count) { s -> Result<ShardInspector.Contents, SynthError> in
            let path = Files.join(dir, manifest.shardlist[s].url)
            do {
                let (bytes, digest) = try FileDigest.read(path)
                if let m = ShardVerifier.mismatch(digest, manifest.shardlist[s]) {
                    throw SynthError.file(path, "does not match manifest.json (\(m)); refusing the dataset (see synth verify)")
                }
                return .success(try inspector.inspect(bytes, shard: s))
            } catch let p as ShardInspector.Problem {
                return .failure(SynthError("\(path): \(p.key.map { "sample \($0): " } ?? "")\(p.message)"))
            } catch let e as SynthError {
                return .failure(e)
            } catch {
                return .failure(SynthError("\(path): \(error)"))
            }
        }
        var pixels: [UInt8] = [], labels: [Int] = [], probs: [Float] = []
        pixels.reserveCapacity(manifest.numSamples * manifest.imageShape.reduce(1, *))
        for r in results {
            let c = try r.get()
            pixels += c.pixels; labels += c.labels; probs += c.probs
        }
        var data = Dataset(name: "shards:\(dir)", pixels: pixels, count: labels.count, channels: manifest.imageShape[0],
                           height: manifest.imageShape[1], width: manifest.imageShape[2], labels: labels,
                           classNames: manifest.classes)
        if manifest.storesProbs { data.softLabels = probs }
        return data
    }

    static func loadForeign(dir: String) throws -> Dataset {
        let tars = try Files.list(dir).filter { $0.hasSuffix(".tar") && !$0.hasPrefix(".") }
        guard !tars.isEmpty else { throw SynthError.file(dir, "no manifest.json and no *.tar shards") }
        var pixels: [UInt8] = [], labels: [Int] = []
        var shape: (Int, Int, Int)?
        var firstImage = ""
        for tar in tars {
            let path = Files.join(dir, tar)
            let reader = try TarReader(path: path)
            var key: String?
            var png: [UInt8]?, cls: Int?
            func flush() throws {
                guard let k = key else { return }
                guard let png, let cls else {
                    throw SynthError.file(path, "sample '\(TarReader.printable(k))' lacks a .png or a .cls member")
                }
                let image = try PNG.decode(png, path: "\(path): \(TarReader.printable(k)).png")
                if let (c, h, w) = shape {
                    guard image.channels == c, image.height == h, image.width == w else {
                        throw SynthError.file(path, "sample '\(TarReader.printable(k))' is \(image.channels)x\(image.height)x\(image.width), \(firstImage) is \(c)x\(h)x\(w)")
                    }
                } else {
                    shape = (image.channels, image.height, image.width)
                    firstImage = "\(tar):\(TarReader.printable(k))"
                }
                pixels += image.pixels
                labels.append(cls)
            }
            while let m = try reader.next() {
                // WebDataset's rule: the key is the path up to the first dot of the file name.
                let slash = m.name.lastIndex(of: "/").map { m.name.index(after: $0) } ?? m.name.startIndex
                guard let dot = m.name[slash...].firstIndex(of: ".") else { continue }
                let k = String(m.name[..<dot]), ext = String(m.name[m.name.index(after: dot)...])
                if k != key {
                    try flush()
                    key = k; png = nil; cls = nil
                }
                if ext == "png" { png = m.bytes }
                if ext == "cls" {
                    let text = String(decoding: m.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    guard let v = Int(text), v >= 0, v < 100_000 else {
                        throw SynthError.file(path, "member '\(TarReader.printable(m.name))' is not a class index")
                    }
                    cls = v
                }
            }
            try flush()
        }
        guard let (c, h, w) = shape else { throw SynthError.file(dir, "the shards hold no samples") }
        let classes = (0...(labels.max() ?? 0)).map(String.init)
        return Dataset(name: "shards:\(dir)", pixels: pixels, count: labels.count, channels: c, height: h, width: w,
                       labels: labels, classNames: classes)
    }
}
