import Datasets
import Engine
import Foundation
import Testing

@Suite struct FolderTests {
    /// A w x h RGB image whose bytes depend on `seed`, planar.
    func rgb(_ seed: Int, width: Int = 4, height: Int = 3) -> [UInt8] {
        (0..<3 * width * height).map { UInt8(truncatingIfNeeded: $0 * 11 + seed * 40) }
    }

    func png(_ seed: Int, width: Int = 4, height: Int = 3) -> [UInt8] {
        PNG.encode(pixels: rgb(seed, width: width, height: height), width: width, height: height, channels: 3)
    }

    @Test func loadsClassFoldersInNameOrder() throws {
        let dir = try TemporaryDirectory()
        try dir.write("zebra/b.png", png(1))
        try dir.write("zebra/a.png", png(2))
        try dir.write("apple/x10.png", png(3))
        try dir.write("apple/x09.png", png(4))
        try dir.write("apple/.DS_Store", [1, 2, 3])
        try dir.write("README.txt", Array("not a class".utf8))
        try dir.write(".hidden/z.png", [0])
        let data = try Dataset.load(spec: "folder:\(dir.path)")
        #expect(data.classNames == ["apple", "zebra"])
        #expect(data.count == 4 && data.channels == 3 && data.height == 3 && data.width == 4)
        #expect(data.labels == [0, 0, 1, 1])
        #expect(Array(data.image(0)) == rgb(4) && Array(data.image(1)) == rgb(3))
        #expect(Array(data.image(2)) == rgb(2) && Array(data.image(3)) == rgb(1))
        #expect(try Dataset.load(spec: "folder:\(dir.path)@2").labels == [0, 1])
    }

    @Test func manyImagesDecodeInParallelInOrder() throws {
        let dir = try TemporaryDirectory()
        for i in 0..<300 {
            let gray = [UInt8](repeating: UInt8(i % 256), count: 25)
            try dir.write("c\(i % 3)/\(String(format: "%04d", i)).png", PNG.encode(pixels: gray, width: 5, height: 5, channels: 1))
        }
        let data = try Dataset.load(spec: "folder:\(dir.path)")
        #expect(data.count == 300 && data.channels == 1 && data.classCounts == [100, 100, 100])
        // Class c0 holds i = 0, 3, 6, ...; each image's bytes equal its i.
        #expect(data.image(0).first == 0 && data.image(1).first == 3 && data.image(100).first == 1)
    }

    @Test func badFolders() throws {
        let missing = "/nonexistent/synth-folder"
        expectSynthError(mentioning: missing, "no such directory") { _ = try Dataset.load(spec: "folder:\(missing)") }

        let empty = try TemporaryDirectory()
        expectSynthError(mentioning: empty.path, "no class sub-folders") { _ = try Dataset.load(spec: "folder:\(empty.path)") }
        try empty.makeDirectory("cls")
        expectSynthError(mentioning: empty.file("cls"), "empty class folder") { _ = try Dataset.load(spec: "folder:\(empty.path)") }
        let file = try empty.write("plain", [1])
        expectSynthError(mentioning: file, "not a directory") { _ = try Dataset.load(spec: "folder:\(file)") }

        let mixed = try TemporaryDirectory()
        try mixed.write("a/1.png", png(1))
        let odd = try mixed.write("b/2.png", png(2, width: 5))
        expectSynthError(mentioning: odd, "share size") { _ = try Dataset.load(spec: "folder:\(mixed.path)") }
        try mixed.write("b/2.png", PNG.encode(pixels: [UInt8](repeating: 9, count: 12), width: 4, height: 3, channels: 1))
        expectSynthError(mentioning: odd, "gray") { _ = try Dataset.load(spec: "folder:\(mixed.path)") }

        let notPNG = try TemporaryDirectory()
        try notPNG.write("a/1.png", png(1))
        let text = try notPNG.write("a/2.png", Array("hello".utf8))
        expectSynthError(mentioning: text, "not a PNG") { _ = try Dataset.load(spec: "folder:\(notPNG.path)") }
        let corrupt = try notPNG.write("a/2.png", Array(png(2).prefix(40)))
        expectSynthError(mentioning: corrupt, "corrupt PNG") { _ = try Dataset.load(spec: "folder:\(notPNG.path)") }
        var flipped = png(2)
        flipped[flipped.count - 20] ^= 0xff  // inside IDAT: bad CRC or bad deflate data
        try notPNG.write("a/2.png", flipped)
        expectSynthError(mentioning: corrupt, "corrupt PNG") { _ = try Dataset.load(spec: "folder:\(notPNG.path)") }
        try notPNG.write("a/2.png", [])
        expectSynthError(mentioning: corrupt, "empty") { _ = try Dataset.load(spec: "folder:\(notPNG.path)") }
        try FileManager.default.removeItem(atPath: corrupt)
        try notPNG.makeDirectory("a/nested")
        expectSynthError(mentioning: notPNG.file("a/nested"), "unexpected folder") { _ = try Dataset.load(spec: "folder:\(notPNG.path)") }
    }
}
