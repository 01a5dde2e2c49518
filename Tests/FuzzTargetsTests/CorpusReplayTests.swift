import Foundation
import FuzzTargets
import Testing

/// Every committed input of Fuzz/corpus (the seeds and every finding's input, kept as regression
/// tests) goes through its fuzz target in the ordinary test suite, without libFuzzer: a target
/// traps on any broken contract, so a reader that regresses on one of them fails here.
@Suite struct CorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus").standardized.path

    static func inputs(_ target: FuzzTarget) -> [String] {
        let dir = corpus + "/" + target.rawValue
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
    }

    @Test(arguments: FuzzTarget.allCases)
    func corpusReplays(_ target: FuzzTarget) throws {
        let files = Self.inputs(target)
        #expect(!files.isEmpty, "no seeds in \(Self.corpus)/\(target.rawValue)")
        for file in files {
            target.run(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        }
    }
}
