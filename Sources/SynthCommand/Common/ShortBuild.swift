import Foundation
import Shards
import Support

/// DESIGN "Short builds": a build (a worker's part, a merge) that keeps fewer samples than planned
/// has written its manifest, says on stderr which classes fell short and by how much and which
/// flags help, and fails the check (exit 1) unless --allow-short accepts it.
enum ShortBuild {
    static func check(_ m: Manifest, path: String, allowShort: Bool) throws {
        guard let text = m.shortfallText else { return }
        var hints: [String] = []
        if let attempts = m.build.maxAttempts { hints.append("a larger --max-attempts (now \(attempts) per class)") }
        if let threshold = m.build.threshold { hints.append("a lower --threshold (now \(threshold))") }
        if m.build.rejectNearCopies != nil { hints.append("a lower --near-copy-threshold") }
        if m.build.threshold != nil { hints.append("--no-filter") }
        let what = "\(path): short build: \(text); the filter's attempt budget ran out"
        if allowShort {
            FileHandle.standardError.write(Data("synth: note: \(what) (accepted: --allow-short)\n".utf8))
        } else {
            throw SynthError("\(what): build again into another --out with \(hints.joined(separator: ", ")), or pass --allow-short to accept it", exitCode: 1)
        }
    }
}
