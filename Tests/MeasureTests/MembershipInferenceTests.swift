import Foundation
import Measure
import Testing

/// The threshold attack's AUC and advantage on signals whose answer is known.
@Suite struct MembershipInferenceTests {
    @Test func separatedSignalsGiveOne() {
        let r = MembershipInference.attack(members: [0.1, 0.2, 0.3], others: [0.5, 0.9])
        #expect(r.auc == 1 && r.advantage == 1)
        let reversed = MembershipInference.attack(members: [0.5, 0.9], others: [0.1, 0.2, 0.3])
        #expect(reversed.auc == 0 && reversed.advantage == 0)
    }

    @Test func identicalSignalsGiveAHalf() {
        let same = [0.3, 0.1, 0.7, 0.7]
        let r = MembershipInference.attack(members: same, others: same)
        #expect(r.auc == 0.5 && r.advantage == 0)
    }

    /// Mann-Whitney by counting: members [1, 3], others [2, 3]: pairs (1<2, 1<3, 3>2, 3=3) = 2.5 / 4;
    /// the best threshold (at 1) calls 1 of 2 members and 0 of 2 others.
    @Test func tiesCountHalf() {
        let r = MembershipInference.attack(members: [1, 3], others: [2, 3])
        #expect(r.auc == 0.625 && r.advantage == 0.5)
    }
}
