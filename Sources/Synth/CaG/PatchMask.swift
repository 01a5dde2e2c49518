import Engine
import Support

/// MAE-style random patch masks: the image is cut into patch x patch squares and a fixed share of
/// them, chosen uniformly without replacement per image, is hidden. Exactly round(ratio * patches)
/// are hidden in every image (as MAE's shuffle-and-keep), so the reconstruction task is equally
/// hard for every sample.
public enum PatchMask {
    /// [n, 1, height, width], 1 where the pixel is visible, 0 where hidden.
    public static func random(count n: Int, height: Int, width: Int, patch: Int, ratio: Float,
                              rng: inout RNG) -> Tensor {
        precondition(patch > 0 && height % patch == 0 && width % patch == 0, "PatchMask: \(patch) px patches on \(height)x\(width)")
        let gh = height / patch, gw = width / patch, cells = gh * gw
        let hidden = min(cells, max(0, Int((ratio * Float(cells)).rounded())))
        let m = Tensor(uninitialized: [n, 1, height, width])
        let cell = UnsafeMutablePointer<Float>.allocate(capacity: cells)
        defer { cell.deallocate() }
        for i in 0..<n {
            // Partial Fisher-Yates: the first `hidden` cells of a random order are hidden.
            var order = Array(0..<cells)
            for k in 0..<hidden {
                let j = k + rng.int(below: cells - k)
                order.swapAt(k, j)
            }
            cell.update(repeating: 1, count: cells)
            for k in 0..<hidden { cell[order[k]] = 0 }
            let plane = m.ptr + i * height * width
            for y in 0..<height {
                let row = plane + y * width, c = cell + (y / patch) * gw
                for x in 0..<width { row[x] = c[x / patch] }
            }
        }
        return m
    }
}
