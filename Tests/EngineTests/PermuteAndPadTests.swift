import Engine
import Testing
import TestSupport

/// permute and pad2d (the ops ONNX import adds): values by hand, gradients by finite differences.
struct PermuteAndPadTests {
    @Test func permuteMovesAxes() {
        let x = Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])
        let y = permute(x, [1, 0])
        #expect(y.shape == [3, 2])
        #expect(y.array == [0, 3, 1, 4, 2, 5])
        let z = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        let p = permute(z, [2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        // p[k, i, j] = z[i, j, k]
        #expect(p.ptr[1 * 6 + 1 * 3 + 2] == z.ptr[1 * 12 + 2 * 4 + 1])
        #expect(permute(p, [1, 2, 0]).array == z.array)
    }

    @Test func permuteGradients() {
        checkGradients([randn([2, 3, 4], seed: 1)]) { permute($0[0], [2, 0, 1]) }
        checkGradients([randn([2, 3, 2, 2], seed: 2)]) { permute($0[0], [0, 2, 3, 1]) }
        checkGradients([randn([5], seed: 3)]) { permute($0[0], [0]) }
    }

    @Test func pad2dPadsAndCrops() {
        let x = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
        let y = pad2d(x, top: 1, bottom: 0, left: 0, right: 1, value: -1)
        #expect(y.shape == [1, 1, 3, 3])
        #expect(y.array == [-1, -1, -1, 1, 2, -1, 3, 4, -1])
        let c = pad2d(y, top: -1, bottom: 0, left: 0, right: -1)
        #expect(c.array == x.array)
        #expect(pad2d(x, top: -1, bottom: 1, left: 1, right: -1).array == [0, 3, 0, 0])
    }

    @Test func pad2dGradients() {
        checkGradients([randn([2, 3, 4, 5], seed: 4)]) { pad2d($0[0], top: 1, bottom: 2, left: 0, right: 1) }
        checkGradients([randn([2, 2, 5, 5], seed: 5)]) { pad2d($0[0], top: -1, bottom: 1, left: 2, right: -2, value: 3) }
    }
}
