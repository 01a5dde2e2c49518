import Datasets
import Foundation
import Testing

@Suite struct CIFARTests {
    /// A record's image bytes: a pattern unique to (file, record) so order mistakes show.
    func image(_ file: Int, _ record: Int) -> [UInt8] {
        (0..<3072).map { UInt8(truncatingIfNeeded: $0 * 7 + file * 31 + record * 57) }
    }

    func cifar10(in dir: TemporaryDirectory, names: Bool = true) throws {
        for b in 1...5 {
            try dir.write("data_batch_\(b).bin", [UInt8(b)] + image(b, 0) + [UInt8(9 - b)] + image(b, 1))
        }
        try dir.write("test_batch.bin", (0..<3).flatMap { [UInt8($0 + 4)] + image(0, $0) })
        if names {
            try dir.write("batches.meta.txt", Array("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n".utf8))
        }
    }

    @Test func loadsCIFAR10() throws {
        let dir = try TemporaryDirectory()
        try cifar10(in: dir)
        let train = try Dataset.load(spec: "cifar10:\(dir.path)")
        #expect(train.count == 10 && train.channels == 3 && train.height == 32 && train.width == 32)
        #expect(train.labels == [1, 8, 2, 7, 3, 6, 4, 5, 5, 4])
        #expect(train.classNames == ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
        #expect(Array(train.image(3)) == image(2, 1))
        let test = try Dataset.load(spec: "cifar10:\(dir.path):test")
        #expect(test.count == 3 && test.labels == [4, 5, 6] && Array(test.image(2)) == image(0, 2))
        #expect(try Dataset.load(spec: "cifar10:\(dir.path):test@2").labels == [4, 5])
    }

    @Test func cifar10DefaultsAndNestedFolder() throws {
        let root = try TemporaryDirectory()
        let nested = try TemporaryDirectory()
        try cifar10(in: nested, names: false)
        try root.makeDirectory("cifar-10-batches-bin")
        for file in ["test_batch.bin"] + (1...5).map({ "data_batch_\($0).bin" }) {
            try root.write("cifar-10-batches-bin/\(file)", try [UInt8](Data(contentsOf: URL(fileURLWithPath: nested.file(file)))))
        }
        let test = try Dataset.load(spec: "cifar10:\(root.path):test")
        #expect(test.count == 3 && test.classNames[0] == "airplane" && test.classNames[9] == "truck")
    }

    @Test func loadsCIFAR100() throws {
        let dir = try TemporaryDirectory()
        // Records: coarse label, fine label, image.
        try dir.write("train.bin", (0..<4).flatMap { [UInt8($0), UInt8(99 - $0 * 10)] + image(1, $0) })
        try dir.write("test.bin", [3, 42] + image(2, 0))
        let train = try Dataset.load(spec: "cifar100:\(dir.path)")
        #expect(train.count == 4 && train.labels == [99, 89, 79, 69] && train.classNames.count == 100)
        #expect(train.classNames[7] == "class-7" && Array(train.image(1)) == image(1, 1))
        try dir.write("fine_label_names.txt", Array((0..<100).map { "fine\($0)" }.joined(separator: "\n").utf8))
        let test = try Dataset.load(spec: "cifar100:\(dir.path):test")
        #expect(test.labels == [42] && test.classNames[42] == "fine42")
    }

    @Test func badCIFARFiles() throws {
        let dir = try TemporaryDirectory()
        try cifar10(in: dir)
        let broken = try dir.write("test_batch.bin", [UInt8](repeating: 1, count: 3073 * 2 + 5))
        expectSynthError(mentioning: broken, "3073-byte") { _ = try Dataset.load(spec: "cifar10:\(dir.path):test") }
        try dir.write("test_batch.bin", [])
        expectSynthError(mentioning: broken, "size 0") { _ = try Dataset.load(spec: "cifar10:\(dir.path):test") }
        try dir.write("test_batch.bin", [10] + image(0, 0))
        expectSynthError(mentioning: broken, "label 10") { _ = try Dataset.load(spec: "cifar10:\(dir.path):test") }
        try FileManager.default.removeItem(atPath: dir.file("data_batch_4.bin"))
        expectSynthError(mentioning: dir.file("data_batch_4.bin"), "no such file") {
            _ = try Dataset.load(spec: "cifar10:\(dir.path)")
        }
        let names = try dir.write("batches.meta.txt", Array("a\nb\n".utf8))
        expectSynthError(mentioning: names, "10 class names") { _ = try Dataset.load(spec: "cifar10:\(dir.path)") }

        let hundred = try TemporaryDirectory()
        let train = try hundred.write("train.bin", [UInt8](repeating: 0, count: 3073))
        expectSynthError(mentioning: train, "3074-byte") { _ = try Dataset.load(spec: "cifar100:\(hundred.path)") }
        expectSynthError(mentioning: hundred.file("test.bin"), "no such file") {
            _ = try Dataset.load(spec: "cifar100:\(hundred.path):test")
        }
    }
}
