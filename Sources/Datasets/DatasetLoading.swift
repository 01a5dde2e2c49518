import Foundation
import Support

extension Dataset {
    /// Reads `spec` into memory; every bad input throws a one-line `SynthError` naming the file.
    public static func load(_ spec: DataSpec) throws -> Dataset {
        let name = spec.description
        switch spec {
        case .fashionMNIST(let split):
            return try FashionMNIST.load(split, name: name)
        case .idx(let images, let labels):
            return try IDX.load(images: images, labels: labels, name: name)
        case .cifar10(let dir, let split):
            return try CIFAR.load10(dir: dir, split: split, name: name)
        case .cifar100(let dir, let split):
            return try CIFAR.load100(dir: dir, split: split, name: name)
        case .folder(let dir):
            return try ImageFolder.load(dir: dir, name: name)
        case .shards(let dir):
            var dataset = try ShardsDataset.load(dir: dir)
            dataset.name = name
            return dataset
        case .balancedPrefix(let base, let n):
            let full = try load(base)
            guard n <= full.count else {
                throw SynthError("data spec \"\(name)\": @\(n) asks for more samples than the \(full.count) "
                    + "\(base) holds")
            }
            return full.balancedPrefix(n)
        case .balancedRest(let base, let n):
            let full = try load(base)
            guard n < full.count else {
                throw SynthError("data spec \"\(name)\": @~\(n) leaves nothing of the \(full.count) samples \(base) holds")
            }
            return full.balancedRest(n)
        }
    }

    /// Parses and loads a spec string such as "fashion-mnist:train@1000".
    public static func load(spec text: String) throws -> Dataset {
        try load(DataSpec(parsing: text))
    }
}
