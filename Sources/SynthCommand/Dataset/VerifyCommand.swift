import ArgumentParser
import Datasets
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every hash, size, count, label and image of a dataset against its manifest.",
        discussion: """
        Exit 0 when everything checks out (a short build, one that kept fewer samples than planned, is said so and still checks out), 1 naming the first bad shard (and sample where it can be placed).

        Example:
          synth verify data/cag
        """
    )

    @Argument(help: "The dataset directory.") var dir: String

    func run() throws {
        let report = try ShardVerifier.verify(dir: dir)
        print("\(dir): \(report.summary)")
    }
}
