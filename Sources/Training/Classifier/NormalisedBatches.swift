import Datasets
import Engine
import Models

extension Dataset {
    /// The images at `indices` as one NCHW tensor, normalised for a model with this card.
    public func batch(_ indices: ArraySlice<Int>, normalisedFor card: ModelCard) -> Tensor {
        let x = Tensor(uninitialized: [indices.count, channels, height, width])
        batch(indices: indices, mean: card.mean, std: card.std, into: x.ptr)
        return x
    }

    /// The whole dataset in order, `size` images at a time (the last batch shorter), normalised for
    /// a model with this card: body(indices, x). Evaluation, feature statistics and reconstruction
    /// error all pass over a dataset this way.
    public func forEachBatch(size: Int, normalisedFor card: ModelCard,
                             _ body: (_ indices: [Int], _ x: Tensor) throws -> Void) rethrows {
        var offset = 0
        while offset < count {
            let indices = Array(offset..<min(offset + size, count))
            offset += indices.count
            try body(indices, batch(indices[...], normalisedFor: card))
        }
    }
}
