import ArgumentParser
import Datasets
import Foundation
import Measure
import Report
import Shards
import Support

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.md and a self-contained report.html beside a dataset.",
        discussion: """
        The report shows what the manifest and the shards hold: a sample grid per class, the filter's acceptance per class, every CAS measured (synth cas), the error-versus-size curve and compression (synth compress) and the near-copy audit (synth audit). Those commands rewrite it themselves; this one renders it on demand. report.html has no external reference (inline CSS, images as data: URIs, the chart as inline SVG).

        Example:
          synth report data/gan && xdg-open data/gan/report.html
        """
    )

    @Argument(help: "The dataset directory.") var dir: String

    func run() throws {
        guard Files.isDirectory(dir) else { throw SynthError.file(dir, "no such directory") }
        try ShardsDataset.checkFinished(dir: dir)
        guard Files.exists(Files.join(dir, ShardFiles.manifest)) else {
            throw SynthError.file(dir, "no manifest.json: not a dataset synth wrote")
        }
        try DatasetReport.refresh(dir: dir)
        print("\(Files.join(dir, DatasetReport.markdownFile)), \(Files.join(dir, DatasetReport.htmlFile))")
    }
}
