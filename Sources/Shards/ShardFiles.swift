import Support
import Foundation

/// File names inside a shards directory. Everything that is not yet complete is hidden (a leading
/// dot), so `ls *.tar`, globs and brace expansions never see it:
///
///     <name>-000003.tar                 a complete shard (renamed into place after fsync)
///     .<name>-000003.tar.partial        a shard being written
///     .<name>-000003.done.json          what a build needs to resume: the shard's digest and filter
///                                       statistics (removed once manifest.json or a part manifest holds them)
///     manifest.part-<I>-of-<W>.json     a worker's share, until `synth merge` writes manifest.json
///     manifest.json                     written last: its presence means the dataset is complete
public enum ShardFiles {
    public static let manifest = "manifest.json"

    public static func shard(_ name: String, _ index: Int) -> String { "\(name)-\(pad(index, 6)).tar" }
    public static func partial(_ name: String, _ index: Int) -> String { ".\(shard(name, index)).partial" }
    public static func done(_ name: String, _ index: Int) -> String { ".\(name)-\(pad(index, 6)).done.json" }
    public static func part(worker: Int, of workers: Int) -> String { "manifest.part-\(worker)-of-\(workers).json" }

    /// A sample key: the zero-padded global sample index.
    public static func key(_ index: Int) -> String { pad(index, 9) }

    /// What only an unfinished synth build leaves in its directory: a resume record
    /// (`.NAME-NNNNNN.done.json`), a shard being written (`.NAME-NNNNNN.tar.partial`) or a
    /// manifest being written (`.manifest*.json.tmp`).
    public static func isUnfinishedBuildPiece(_ file: String) -> Bool {
        guard file.hasPrefix(".") else { return false }
        if file.hasPrefix(".manifest") && file.hasSuffix(".json.tmp") { return true }
        for suffix in [".done.json", ".tar.partial"] where file.hasSuffix(suffix) {
            // ".NAME-" + at least 6 digits + suffix
            let stem = file.dropFirst().dropLast(suffix.count)
            guard let dash = stem.lastIndex(of: "-") else { return false }
            let digits = stem[stem.index(after: dash)...]
            return dash != stem.startIndex && digits.count >= 6 && digits.allSatisfy { $0.isASCII && $0.isNumber }
        }
        return false
    }

    /// (worker, workers) of a part manifest's file name.
    public static func parsePart(_ file: String) -> (worker: Int, workers: Int)? {
        guard file.hasPrefix("manifest.part-"), file.hasSuffix(".json") else { return nil }
        let middle = file.dropFirst("manifest.part-".count).dropLast(".json".count)
        let pieces = middle.components(separatedBy: "-of-")
        guard pieces.count == 2, let i = Int(pieces[0]), let w = Int(pieces[1]), w > 0, i >= 0, i < w,
              String(i) == pieces[0], String(w) == pieces[1] else { return nil }
        return (i, w)
    }

    /// The shard index of `<name>-NNNNNN.tar`, or nil for any other name.
    public static func shardIndex(_ file: String, name: String) -> Int? {
        let prefix = name + "-"
        guard file.hasPrefix(prefix), file.hasSuffix(".tar") else { return nil }
        let digits = file.dropFirst(prefix.count).dropLast(4)
        guard digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// A shard name must be usable as a file-name prefix and keep WebDataset's key rules away
    /// from the file name: no '/', no leading '.', no whitespace or NUL.
    public static func checkName(_ name: String) throws {
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"),
              !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 32 }) else {
            throw SynthError("shard name '\(name)' is not usable (no '/', whitespace or leading '.'); pass --name")
        }
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
