import Foundation
import Support
import TestSupport
import Testing

/// The command line's side of DESIGN "foreign shards": a foreign WebDataset holding a hostile
/// member ends `synth` with exit 2 and one line naming the shard and the member.
@Suite struct HostileShardCommandTests {
    @Test(arguments: [("../../evil.cls", HandBuiltTar.Kind.file, "has '..' in its name"),
                      ("/tmp/evil.cls", .file, "has an absolute name"),
                      ("000000.png", .symbolicLink, "is a symbolic link")])
    func hostileMemberEndsSynthWithExit2(_ name: String, _ kind: HandBuiltTar.Kind, _ problem: String) throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let shards = dir.file("foreign")
        try FileManager.default.createDirectory(atPath: shards, withIntermediateDirectories: true)
        var tar = HandBuiltTar()
        tar.add("000000.cls", Array("1".utf8))
        tar.add(name, kind == .file ? Array("1".utf8) : [], kind: kind, linkTarget: "/etc/passwd")
        let path = Files.join(shards, "shard-a.tar")
        try Data(tar.finished).write(to: URL(fileURLWithPath: path))
        let r = try SynthProcess.run(["preview", shards, "--out", dir.file("grid.png")])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr == "synth: \(path): member '\(name)' \(problem); synth refuses absolute names, '..', links and devices in tar shards\n", "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("grid.png")))
    }
}
