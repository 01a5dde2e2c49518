@testable import Engine
import Foundation
import TestSupport
import Testing

private func cosr(_ n: Int) -> [Float] { (0..<n).map { Float(Foundation.cos(0.21 * Double($0))) } }

/// Batch-norm values computed with torch 1.13 (script below): three training forwards
/// through nn.BatchNorm{1,2}d(3) with weight [1.5, -0.5, 2] and bias [0.1, 0.2, -0.3], the last
/// one's output and gradients for loss sum(y * cos(0.21 i)), the running statistics after the
/// three, and an evaluation forward of seq(n, 5) (`fixtureSequence` here).
private struct BatchNormFixture {
    let shape: [Int]
    let y, gx, gw, gb, runningMean, runningVar, eval: [Float]
}

/// The script that produced the fixtures (kept here so they can be regenerated):
///
///     import math, torch
///     def seq(n, k=0.0): return torch.tensor([math.sin(0.37*i + k)*2 + 0.5*(i % 3) for i in range(n)])
///     def cosr(n): return torch.tensor([math.cos(0.21*i) for i in range(n)])
///     for shape in [(4, 3, 2, 2), (5, 3)]:
///         bn = torch.nn.BatchNorm1d(3) if len(shape) == 2 else torch.nn.BatchNorm2d(3)
///         with torch.no_grad(): bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0])); bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
///         n = math.prod(shape)
///         for k in range(3): x = seq(n, k).reshape(shape).requires_grad_(True); y = bn(x)
///         (y * cosr(n).reshape(shape)).sum().backward()
///         # print y, x.grad, bn.weight.grad, bn.bias.grad, bn.running_mean, bn.running_var
///         bn.eval(); # print bn(seq(n, 5.0).reshape(shape))

private let bn2d = BatchNormFixture(
    shape: [4, 3, 2, 2],
    y: [1.6164411306381226, 1.6998203992843628, 1.5760194063186646, -0.31041914224624634, 0.32464897632598877, 0.36977091431617737, 0.8500341176986694, 0.7588657140731812, -2.3748364448547363, -3.3641602993011475, -1.8918102979660034, -0.20620185136795044, -0.036913517862558365, 1.2728396654129028, 2.4332025051116943, 1.7149122953414917, -0.5495283603668213, -0.6537998914718628, -0.1843946874141693, -0.14641600847244263, 0.4700588583946228, -1.9997377395629883, -2.192528486251831, -2.1313602924346924, -2.5604450702667236, -1.9555870294570923, -1.063166856765747, -1.5761828422546387, 0.2411125898361206, -0.16501757502555847, -0.06362542510032654, -0.4100053012371063, 3.1350324153900146, 1.8222203254699707, 2.269129514694214, 2.366133689880371, 0.45073673129081726, 0.20850102603435516, -0.03907181695103645, -1.830687165260315, 0.6898727416992188, 0.5955560207366943, 0.9058215022087097, 0.6371049284934998, -1.1437950134277344, -1.5986685752868652, 0.1691804826259613, 1.8713425397872925],
    gx: [1.132314920425415, 1.1185543537139893, 1.0318963527679443, 0.6823170185089111, -0.2391808182001114, -0.1841534674167633, -0.12978696823120117, -0.06069953367114067, 0.587116003036499, 0.5042732954025269, -0.08183553814888, -0.681517481803894, -1.0630091428756714, -1.014008641242981, -0.9393578767776489, -1.050744891166687, 0.31684592366218567, 0.2968307435512543, 0.2533339560031891, 0.20601941645145416, -0.5627574324607849, 0.23729939758777618, 0.572317361831665, 0.8591799139976501, -0.13082417845726013, 0.15317606925964355, 0.44818800687789917, 0.5358829498291016, -0.3206193149089813, -0.333536833524704, -0.34143301844596863, -0.3268149793148041, 0.8687487244606018, 0.9930142164230347, 0.6932575702667236, 0.4266762435436249, 0.20795968174934387, -0.04811061918735504, -0.3088892996311188, -0.7553448677062988, 0.1443016678094864, 0.20080795884132385, 0.24011103808879852, 0.27797436714172363, -0.924785852432251, -0.8520447611808777, -1.188690185546875, -1.4502514600753784],
    gw: [-2.7151403427124023, 0.4389009475708008, 4.752097129821777],
    gb: [2.239804744720459, -0.854189395904541, -3.38008451461792],
    runningMean: [0.15231457352638245, 0.11596284806728363, 0.11514249444007874],
    runningVar: [1.3455018997192383, 1.3349881172180176, 1.3501375913619995],
    eval: [-2.5770225524902344, -1.4973244667053223, -0.14058387279510498, -0.5426369309425354, -0.1354319006204605, -0.6472808718681335, -0.4471181035041809, -0.8016930818557739, 4.646180152893066, 2.56156587600708, 2.6446762084960938, 2.4188952445983887, -0.13633203506469727, -0.4222296178340912, -0.5765935778617859, -2.430739402770996, 0.8968256115913391, 0.6456819772720337, 0.9315535426139832, 0.4760907292366028, 0.6529584527015686, 0.19796544313430786, 2.2305989265441895, 4.010384559631348, 2.4042747020721436, 3.1194534301757812, 3.4868152141571045, 1.6044321060180664, -0.2613057792186737, -0.1634896695613861, 0.5808592438697815, 0.6313385963439941, -1.8933460712432861, -3.9325156211853027, -2.9250173568725586, -1.4725788831710815, -1.4034303426742554, 0.1386984884738922, 1.736441969871521, 1.3213452100753784, -0.6704119443893433, -1.0210646390914917, -0.6091156601905823, -0.7299788594245911, 3.4699556827545166, 0.6535570025444031, 0.2631227374076843, -0.11387091875076294])

private let bn1d = BatchNormFixture(
    shape: [5, 3],
    y: [2.416008949279785, -0.4504909813404083, 1.3193858861923218, 0.44085946679115295, 0.3539343476295471, -1.9068448543548584, -1.6132397651672363, 0.8701782822608948, -2.894608974456787, -1.4648480415344238, 0.524860680103302, -0.5468196272850037, 0.7212194800376892, -0.2984822988510132, 2.5288875102996826],
    gx: [0.42737048864364624, -0.3215927183628082, 1.729277491569519, 0.6170350909233093, -0.24377889931201935, 0.675117552280426, 0.4738435745239258, -0.05021968483924866, -0.3900444805622101, -0.2538214325904846, 0.20507948100566864, -0.9658867120742798, -1.2644275426864624, 0.41051188111305237, -1.0484639406204224],
    gw: [1.3690260648727417, 0.346341609954834, -0.8217076063156128],
    gb: [0.98708176612854, 0.32478857040405273, -0.35177522897720337],
    runningMean: [-0.008339008316397667, 0.10942798852920532, 0.23072370886802673],
    runningVar: [1.3989149332046509, 1.392139196395874, 1.3863162994384766],
    eval: [-2.3216750621795654, 0.7052732110023499, -0.749208927154541, -0.3265053331851959, -0.13124382495880127, 2.830855369567871, 2.1541202068328857, -0.7836858034133911, 4.384884834289551, 2.365028142929077, -0.5274004340171814, 2.186854600906372, 0.07196743041276932, 0.3529619872570038, -1.3219337463378906])

@Suite struct BatchNormTests {
    @Test(arguments: [[6, 4], [3, 2, 3, 3], [4, 3, 5]])
    func trainingGradients(_ shape: [Int]) {
        let c = shape[1]
        let x = randn(shape, seed: 1, scale: 2)
        for i in 0..<x.count { x.ptr[i] += 0.7 }  // a mean far from zero
        let w = randn([c], seed: 2), b = randn([c], seed: 3)
        let rm = Tensor(zeros: [c]), rv = Tensor(filled: 1, shape: [c])
        checkGradients([x, w, b]) {
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: rm, runningVar: rv, training: true)
        }
        checkGradients([x]) {
            batchNorm($0[0], weight: nil, bias: nil, runningMean: rm, runningVar: rv, training: true)
        }
        checkGradients([x, w, b]) {  // x's gradient accumulates from two uses
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: rm, runningVar: rv, training: true) * $0[0]
        }
        let frozenW = w.detached()
        checkGradients([x, b]) {
            batchNorm($0[0], weight: frozenW, bias: $0[1], runningMean: rm, runningVar: rv, training: true)
        }
    }

    @Test(arguments: [[6, 4], [3, 2, 3, 3]])
    func evaluationGradients(_ shape: [Int]) {
        let c = shape[1]
        let x = randn(shape, seed: 4), w = randn([c], seed: 5), b = randn([c], seed: 6)
        let rm = randn([c], seed: 7, requiresGrad: false), rv = positive([c])
        checkGradients([x, w, b]) {
            batchNorm($0[0], weight: $0[1], bias: $0[2], runningMean: rm, runningVar: rv, training: false)
        }
        checkGradients([x]) {
            batchNorm($0[0], weight: nil, bias: nil, runningMean: rm, runningVar: rv, training: false)
        }
        #expect(rm.grad == nil && rv.grad == nil)
    }

    private func positive(_ shape: [Int]) -> Tensor {
        let t = randn(shape, seed: 8, requiresGrad: false)
        for i in 0..<t.count { t.ptr[i] = 0.5 + abs(t.ptr[i]) }
        return t
    }

    @Test(arguments: [0, 1])
    func layerMatchesTorch(_ which: Int) {
        let fx = which == 0 ? bn2d : bn1d
        let n = fx.shape.reduce(1, *)
        let layer = BatchNorm(3)
        layer.weight!.ptr.update(from: [1.5, -0.5, 2.0], count: 3)
        layer.bias!.ptr.update(from: [0.1, 0.2, -0.3], count: 3)
        var x = Tensor(zeros: fx.shape), y = x
        for k in 0..<3 {
            x = Tensor(fixtureSequence(n, Double(k)), shape: fx.shape, requiresGrad: true)
            y = layer(x)
        }
        expectClose(y.array, fx.y, tol: 1e-5)
        sum(mul(y, Tensor(cosr(n), shape: fx.shape))).backward()
        expectClose(x.grad!.buffer.map { $0 }, fx.gx, tol: 1e-5)
        expectClose(layer.weight!.grad!.buffer.map { $0 }, fx.gw, tol: 1e-5)
        expectClose(layer.bias!.grad!.buffer.map { $0 }, fx.gb, tol: 1e-5)
        expectClose(layer.runningMean.array, fx.runningMean, tol: 1e-5)
        expectClose(layer.runningVar.array, fx.runningVar, tol: 1e-5)
        #expect(layer.numBatchesTracked.item == 3)

        layer.eval()
        expectClose(layer(Tensor(fixtureSequence(n, 5), shape: fx.shape)).array, fx.eval, tol: 1e-5)
        #expect(layer.numBatchesTracked.item == 3)
    }

    @Test func stateNamesMatchPyTorch() {
        let layer = BatchNorm(4)
        #expect(layer.stateDict().map(\.name) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(layer.parameters.count == 2)
        #expect(layer.stateDict().last!.isInteger)
        #expect(layer.numBatchesTracked.shape == [])
        let plain = BatchNorm(4, affine: false)
        #expect(plain.stateDict().map(\.name) == ["running_mean", "running_var", "num_batches_tracked"])
        #expect(plain.parameters.isEmpty)
        #expect(layer.runningVar.array == [1, 1, 1, 1] && layer.weight!.array == [1, 1, 1, 1])
    }

    @Test func largeOffsetsAndBigTensorsKeepStatisticsAccurate() {
        // Mean 100 and spread 0.1 over runs longer than the eight-lane blocks.
        let shape = [8, 2, 7, 9]
        let x = randn(shape, seed: 9, scale: 0.1, requiresGrad: false)
        for i in 0..<x.count { x.ptr[i] += 100 }
        let rm = Tensor(zeros: [2]), rv = Tensor(zeros: [2])
        let y = batchNorm(x, weight: nil, bias: nil, runningMean: rm, runningVar: rv, training: true, momentum: 1)
        let m = mean(y, axes: [0, 2, 3]).array, v = variance(y, axes: [0, 2, 3]).array
        #expect(m.allSatisfy { abs($0) < 1e-3 })
        #expect(v.allSatisfy { abs($0 - 1) < 2e-3 })
        // With momentum 1 the running statistics are the batch's (variance unbiased).
        let batchMean = mean(x, axes: [0, 2, 3]).array
        let batchVar = variance(x, axes: [0, 2, 3], unbiased: true).array
        expectClose(rm.array, batchMean, tol: 1e-6)
        for ch in 0..<2 { #expect(abs(rv.array[ch] - batchVar[ch]) / batchVar[ch] < 1e-3) }
    }

    @Test func conditionalBatchNormComposes() {
        // affine=False batch norm, then per-sample scale and shift of shape [N, C, 1, 1].
        let x = randn([3, 2, 2, 2], seed: 10)
        let gamma = randn([3, 2, 1, 1], seed: 11), beta = randn([3, 2, 1, 1], seed: 12)
        let rm = Tensor(zeros: [2]), rv = Tensor(filled: 1, shape: [2])
        checkGradients([x, gamma, beta]) {
            let h = batchNorm($0[0], weight: nil, bias: nil, runningMean: rm, runningVar: rv, training: true)
            return h * $0[1] + $0[2]
        }
    }
}
