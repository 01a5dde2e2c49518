import Datasets
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

/// `folder:` numbers classes by sorted folder name; combined with another dataset (a test set, a
/// model) its classes are matched by name, never by that number.
@Suite struct FolderLabelSpaceTests {
    static let fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    func folder(_ classes: [String]) throws -> (TemporaryDirectory, Dataset) {
        let dir = try TemporaryDirectory()
        for (i, name) in classes.enumerated() {
            try dir.write("\(name)/a.png", PNG.encode(pixels: [UInt8](repeating: UInt8(i), count: 4), width: 2, height: 2, channels: 1))
        }
        return (dir, try Dataset.load(spec: "folder:\(dir.path)"))
    }

    @Test func garmentFoldersMapByName() throws {
        let (dir, data) = try folder(["T-shirt_top", "Trouser", "ankle boot", "Sneaker", "dress"])
        _ = dir
        #expect(data.classNames == ["Sneaker", "T-shirt_top", "Trouser", "ankle boot", "dress"] && data.labels == [0, 1, 2, 3, 4])
        let mapped = try data.inLabelSpace(of: Self.fashion, named: "fashion-mnist:test")
        #expect(mapped.classNames == Self.fashion)
        #expect(mapped.labels == [7, 0, 1, 9, 3])
        // Each image keeps its own label: image bytes were written as the folder's position above.
        #expect(mapped.image(0).first == 3 && mapped.image(3).first == 2)
        // A '/' cannot be in a folder name: either part of "T-shirt/top" names it.
        #expect(try folder(["t-shirt", "Bag"]).1.inLabelSpace(of: Self.fashion, named: "f").labels == [8, 0])
    }

    @Test func indexFoldersMapByIndex() throws {
        let (_, named) = try folder(["0_T-shirt", "03-Dress", "9_ankle_boot", "7"])
        #expect(named.classNames == ["03-Dress", "0_T-shirt", "7", "9_ankle_boot"])
        #expect(try named.inLabelSpace(of: Self.fashion, named: "f").labels == [3, 0, 7, 9])
    }

    @Test func unmatchedFoldersAreRefusedNamingBothDatasets() throws {
        let (_, cats) = try folder(["Trouser", "cat"])
        expectSynthError(mentioning: "folder:", "'cat' is not a class of fashion-mnist:test") {
            _ = try cats.inLabelSpace(of: Self.fashion, named: "fashion-mnist:test")
        }
        let (_, twice) = try folder(["T-shirt", "top"])
        expectSynthError(mentioning: "'T-shirt' and 'top' both match 'T-shirt/top' of f") {
            _ = try twice.inLabelSpace(of: Self.fashion, named: "f")
        }
        let (_, wrongIndex) = try folder(["1_Coat"])
        expectSynthError(mentioning: "'1_Coat' is index 1, 'Trouser' in f, but names 'Coat'") {
            _ = try wrongIndex.inLabelSpace(of: Self.fashion, named: "f")
        }
        let (_, outside) = try folder(["12"])
        expectSynthError(mentioning: "'12' is index 12, f has 10 classes") { _ = try outside.inLabelSpace(of: Self.fashion, named: "f") }
    }

    @Test func softLabelsMoveWithTheirClasses() throws {
        var data = Dataset(name: "d", pixels: [1, 2], count: 2, channels: 1, height: 1, width: 1, labels: [0, 1], classNames: ["Bag", "Trouser"])
        data.softLabels = [0.9, 0.1, 0.2, 0.8]
        let mapped = try data.inLabelSpace(of: Self.fashion, named: "f")
        #expect(mapped.labels == [8, 1])
        #expect(mapped.softLabels?[8] == 0.9 && mapped.softLabels?[1] == 0.1 && mapped.softLabels?[10 + 1] == 0.8 && mapped.softLabels?[10 + 8] == 0.2)
        #expect(mapped.softLabels?.count == 20)
    }
}
