@testable import Engine
import Foundation
import TestSupport
import Testing

/// Trajectories of torch.optim (torch 1.13) on the fixed quadratic
/// loss = 0.5 * sum(a * (p - c)^2), a = [1, 3, 0.5], c = [0.2, 0.1, -0.3], from p = [1, -2, 0.5]:
/// the parameter after each of five steps, flattened. Produced by
///
///     p = torch.tensor([1.0, -2.0, 0.5], requires_grad=True); opt = make([p])
///     for _ in range(5):
///         opt.zero_grad(); (0.5 * (a * (p - c) ** 2).sum()).backward(); opt.step(); print(p)
private enum TorchTrajectory {
    static let sgdPlain: [Float] = [0.9200000166893005, -1.3700000047683716, 0.46000000834465027, 0.8479999899864197, -0.9290000200271606, 0.4220000207424164, 0.7831999659538269, -0.6202999949455261, 0.38590002059936523, 0.7248799800872803, -0.4042099714279175, 0.35160502791404724, 0.672391951084137, -0.25294697284698486, 0.3190247714519501]
    static let sgdPlainWD: [Float] = [0.9150000214576721, -1.3600000143051147, 0.45750001072883606, 0.8389250040054321, -0.9151999950408936, 0.4173375070095062, 0.7708379030227661, -0.6060640215873718, 0.37938395142555237, 0.70989990234375, -0.3912144601345062, 0.34351783990859985, 0.6553604006767273, -0.24189405143260956, 0.3096243441104889]
    static let sgdMomentum: [Float] = [0.9200000166893005, -1.3700000047683716, 0.46000000834465027, 0.7760000228881836, -0.3619999885559082, 0.38600000739097595, 0.5888000130653381, 0.6837999224662781, 0.2851000130176544, 0.38144001364707947, 1.4498798847198486, 0.16503500938415527, 0.17667202651500702, 1.7343878746032715, 0.03372475877404213]
    static let sgdNesterov: [Float] = [0.8479999899864197, -0.8030000329017639, 0.42399999499320984, 0.6600800156593323, 0.22200989723205566, 0.3228200078010559, 0.46185681223869324, 0.831163227558136, 0.20517010986804962, 0.2751103341579437, 0.9955808520317078, 0.07932092994451523, 0.11633466929197311, 0.8304896950721741, -0.047246161848306656]
    static let sgdDampWD: [Float] = [0.918999969959259, -1.3680000305175781, 0.4594999849796295, 0.7805628776550293, -0.40160882472991943, 0.3884589374065399, 0.6030163168907166, 0.6039389967918396, 0.29319173097610474, 0.40641024708747864, 1.3723249435424805, 0.18049374222755432, 0.2105221003293991, 1.7191094160079956, 0.05728089064359665]
    static let sgdNesterovWD: [Float] = [0.918999969959259, -1.415000081062317, 0.4594999849796295, 0.8172189593315125, -0.7852150797843933, 0.4067869782447815, 0.7053254842758179, -0.2227720469236374, 0.3461780846118927, 0.5919411182403564, 0.20696909725666046, 0.281260222196579, 0.4836657643318176, 0.4803938865661621, 0.21494616568088531]
    static let adam: [Float] = [0.8999999761581421, -1.899999976158142, 0.4000000059604645, 0.8005682229995728, -1.800156831741333, 0.30056828260421753, 0.7022200226783752, -1.7005865573883057, 0.20222006738185883, 0.6056001782417297, -1.6014143228530884, 0.10560021549463272, 0.5115042328834534, -1.5027744770050049, 0.011504270136356354]
    static let adamWD: [Float] = [0.8999999761581421, -1.899999976158142, 0.4000000059604645, 0.8005497455596924, -1.800157070159912, 0.3006255626678467, 0.7021440863609314, -1.7005876302719116, 0.20245663821697235, 0.605398952960968, -1.601417064666748, 0.10623057931661606, 0.5110709071159363, -1.5027799606323242, 0.012868858873844147]
    static let adamW: [Float] = [0.8899999856948853, -1.8799999952316284, 0.39500001072883606, 0.781755268573761, -1.7613964080810547, 0.29166099429130554, 0.6758481860160828, -1.644321084022522, 0.19051620364189148, 0.573010265827179, -1.5289154052734375, 0.09222649037837982, 0.47414320707321167, -1.415331244468689, -0.0024028420448303223]
    static let adamBetas: [Float] = [0.9500623941421509, -1.9500079154968262, 0.45012468099594116, 0.9006049036979675, -1.900188684463501, 0.40073028206825256, 0.8519335389137268, -1.850643515586853, 0.352122038602829, 0.8043146729469299, -1.8014531135559082, 0.30456551909446716, 0.7579652667045593, -1.7526763677597046, 0.2582769989967346]
}

/// Five optimiser steps on the fixture's quadratic, the loss built from Engine ops.
private func trajectory(_ make: ([Tensor]) -> Optimizer) -> [Float] {
    let p = Tensor([1, -2, 0.5], shape: [3], requiresGrad: true)
    let a = Tensor([1, 3, 0.5], shape: [3]), c = Tensor([0.2, 0.1, -0.3], shape: [3])
    let opt = make([p])
    var out: [Float] = []
    for _ in 0..<5 {
        opt.zeroGrad()
        (0.5 * sum(a * square(p - c))).backward()
        opt.step()
        out += p.array
    }
    return out
}

@Suite struct OptimizerTests {
    @Test func sgdMatchesTorch() {
        expectClose(trajectory { SGD($0, lr: 0.1) }, TorchTrajectory.sgdPlain)
        expectClose(trajectory { SGD($0, lr: 0.1, weightDecay: 0.05) }, TorchTrajectory.sgdPlainWD)
        expectClose(trajectory { SGD($0, lr: 0.1, momentum: 0.9) }, TorchTrajectory.sgdMomentum)
        expectClose(trajectory { SGD($0, lr: 0.1, momentum: 0.9, nesterov: true) }, TorchTrajectory.sgdNesterov)
        expectClose(trajectory { SGD($0, lr: 0.1, momentum: 0.9, weightDecay: 0.01, dampening: 0.1) },
                    TorchTrajectory.sgdDampWD)
        expectClose(trajectory { SGD($0, lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.1) },
                    TorchTrajectory.sgdNesterovWD)
    }

    @Test func adamMatchesTorch() {
        expectClose(trajectory { Adam($0, lr: 0.1) }, TorchTrajectory.adam)
        expectClose(trajectory { Adam($0, lr: 0.1, weightDecay: 0.1) }, TorchTrajectory.adamWD)
        expectClose(trajectory { Adam.adamW($0, lr: 0.1, weightDecay: 0.1) }, TorchTrajectory.adamW)
        expectClose(trajectory { Adam($0, lr: 0.05, beta1: 0.5, beta2: 0.9, eps: 1e-3) }, TorchTrajectory.adamBetas)
    }

    @Test func parametersWithoutGradientsAreLeftAlone() {
        // The second parameter skips step 1; torch then bias-corrects its first update as step 1.
        let p = Tensor([1, -2, 0.5], shape: [3], requiresGrad: true)
        let q = Tensor([1, -2, 0.5], shape: [3], requiresGrad: true)
        let a = Tensor([1, 3, 0.5], shape: [3]), c = Tensor([0.2, 0.1, -0.3], shape: [3])
        let opt = Adam([p, q], lr: 0.1)
        (0.5 * sum(a * square(p - c))).backward()
        opt.step()
        #expect(q.array == [1, -2, 0.5])
        opt.zeroGrad()
        (0.5 * sum(a * square(q - c))).backward()
        opt.step()
        expectClose(q.array, Array(TorchTrajectory.adam[0..<3]))

        let sgd = SGD([p], lr: 0.1, momentum: 0.9)
        p.zeroGrad()
        let before = p.array
        sgd.step()
        #expect(p.array == before)
    }

    @Test func schedules() {
        let cosine = CosineSchedule(base: 0.1, totalSteps: 110, warmupSteps: 10, minLR: 0.001)
        #expect(abs(cosine.lr(step: 0) - 0.01) < 1e-7)
        #expect(abs(cosine.lr(step: 9) - 0.1) < 1e-7)
        #expect(abs(cosine.lr(step: 10) - 0.1) < 1e-7)
        #expect(abs(cosine.lr(step: 60) - 0.0505) < 1e-6)
        #expect(abs(cosine.lr(step: 110) - 0.001) < 1e-7)
        #expect(abs(cosine.lr(step: 500) - 0.001) < 1e-7)
        let plain = CosineSchedule(base: 1, totalSteps: 4)
        // torch CosineAnnealingLR(T_max=4): 1, 0.8536, 0.5, 0.1464, 0
        expectClose((0...4).map { plain.lr(step: $0) }, [1, 0.85355339, 0.5, 0.14644661, 0], tol: 1e-6)

        let stepLR = StepSchedule(base: 0.1, stepSize: 3, gamma: 0.5)
        expectClose((0..<7).map { stepLR.lr(step: $0) }, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    }
}
