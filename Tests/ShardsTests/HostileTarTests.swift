import Datasets
import Foundation
import Shards
import Support
import TestSupport
import Testing

/// DESIGN "foreign shards": a tar read from elsewhere whose members are absolute, hold `..`, are
/// links or devices is refused (exit 2) with one line naming the shard and the member; nothing is
/// read as a sample and nothing is written outside the directory given.
@Suite struct HostileTarTests {
    /// A valid sample, so the hostile member is the only thing wrong with the shard.
    static let png = PNG.encode(pixels: [UInt8](repeating: 9, count: 4), width: 2, height: 2, channels: 1)

    static let hostile: [(what: String, name: String, kind: HandBuiltTar.Kind, link: String, problem: String)] = [
        ("absolute name", "/etc/evil.cls", .file, "", "has an absolute name"),
        ("parent directory", "../../evil.cls", .file, "", "has '..' in its name"),
        ("inner parent directory", "a/../../evil.png", .file, "", "has '..' in its name"),
        ("bare parent directory", "..", .directory, "", "has '..' in its name"),
        ("symbolic link", "000001.png", .symbolicLink, "/etc/passwd", "is a symbolic link"),
        ("hard link", "000001.png", .hardLink, "000000.png", "is a hard link"),
        ("character device", "000001.png", .characterDevice, "", "is a character device"),
        ("block device", "000001.png", .blockDevice, "", "is a block device"),
        ("fifo", "000001.png", .fifo, "", "is a fifo"),
    ]

    static func shard(hostile member: (name: String, kind: HandBuiltTar.Kind, link: String)) -> [UInt8] {
        var tar = HandBuiltTar()
        tar.add("000000.cls", Array("1".utf8))
        tar.add("000000.png", png)
        tar.add(member.name, member.kind == .file ? Array("2".utf8) : [], kind: member.kind, linkTarget: member.link)
        tar.add("000002.cls", Array("0".utf8))
        tar.add("000002.png", png)
        return tar.finished
    }

    @Test(arguments: hostile.indices)
    func hostileMemberIsRefused(_ i: Int) throws {
        let h = Self.hostile[i]
        let root = ScratchDirectory(); defer { root.cleanup() }
        let dir = root.file("a/b/shards")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = Files.join(dir, "foreign-000000.tar")
        try Data(Self.shard(hostile: (h.name, h.kind, h.link))).write(to: URL(fileURLWithPath: path))

        for read in [{ _ = try TarReader.members(of: path) }, { _ = try Dataset.load(spec: "shards:\(dir)") }] {
            do {
                try read()
                Issue.record("\(h.what): the shard was read")
            } catch let e as SynthError {
                #expect(e.exitCode == 2, "\(h.what)")
                #expect(e.message.hasPrefix(path + ": member '\(h.name)' \(h.problem)"), "\(h.what): \(e.message)")
                #expect(!e.message.contains("\n"), "\(h.what)")
            }
        }
        // Nothing appeared where the names point.
        for place in [root.file("evil.cls"), root.file("a/evil.cls"), root.file("a/evil.png"), root.file("a/b/evil.png")] {
            #expect(!FileManager.default.fileExists(atPath: place), "\(h.what): \(place)")
        }
    }

    /// Directories are harmless and skipped; names with control characters stay on one line.
    @Test func directoriesAreSkippedAndNamesPrintOnOneLine() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var tar = HandBuiltTar()
        tar.add("d/", kind: .directory)
        tar.add("d/000000.cls", Array("1".utf8))
        tar.add("d/000000.png", Self.png)
        let good = dir.file("good.tar")
        try Data(tar.finished).write(to: URL(fileURLWithPath: good))
        #expect(try TarReader.members(of: good).map(\.name) == ["d/000000.cls", "d/000000.png"])

        var bad = HandBuiltTar()
        bad.add("x\n/../evil.cls", Array("1".utf8))
        let path = dir.file("bad.tar")
        try Data(bad.finished).write(to: URL(fileURLWithPath: path))
        #expect(throws: SynthError.self) { _ = try TarReader.members(of: path) }
        do { _ = try TarReader.members(of: path) } catch let e as SynthError {
            #expect(!e.message.contains("\n") && e.message.contains(#"member 'x\n/../evil.cls' has '..'"#), "\(e.message)")
        }
    }
}
