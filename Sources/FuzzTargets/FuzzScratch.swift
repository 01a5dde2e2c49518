import Foundation

/// The one directory a fuzzing process writes its inputs to (readers that take paths read them
/// from there), made once per process under $TMPDIR and overwritten run after run.
final class FuzzScratch: @unchecked Sendable {
    static let shared = FuzzScratch()

    let root: String
    /// A valid one-image IDX pair, beside which the input is read as the other file.
    let oneImage: String, oneLabel: String

    private init() {
        var template = Array((NSTemporaryDirectory() + "/synth-fuzz.XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { fatalError("synth-fuzz: cannot create a scratch directory in \(NSTemporaryDirectory())") }
        root = String(cString: template)
        for sub in ["cifar10", "cifar100", "shards"] {
            try! FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
        oneImage = root + "/one-image"
        oneLabel = root + "/one-label"
        // Big-endian magic and dimensions: one 1x1 image of value 7, one label 0.
        write([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7], as: "one-image")
        write([0, 0, 8, 1, 0, 0, 0, 1, 0], as: "one-label")
    }

    func path(_ name: String) -> String { root + "/" + name }

    /// Writes `bytes` to `name` in place (no temporary and rename, no fsync: the file is scratch,
    /// and this runs for every input) and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], as name: String) -> String {
        let file = path(name)
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { fatalError("synth-fuzz: cannot write \(file)") }
        defer { close(fd) }
        let wrote = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard wrote == bytes.count else { fatalError("synth-fuzz: cannot write \(file)") }
        return file
    }
}
