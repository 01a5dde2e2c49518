import ArgumentParser
import Datasets
import Foundation
import Report
import Support

struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "A PNG grid of a dataset: one row per class, its first samples left to right.",
        discussion: """
        More than \(ClassRowLayout.maxRowsPerBlock) classes (CIFAR-100) wrap into blocks of rows side by side.

        Example:
          synth preview data/cag --out cag-preview.png --per-row 16
        """
    )

    @Argument(help: "The dataset directory (or any data spec).") var dir: String
    @Option(help: "Output PNG.") var out: String
    @Option(help: "Samples per row.") var perRow = 10

    func run() throws {
        try OutputPath.checkWritable(out)
        let spec: DataSpec = dir.contains(":") && !Files.isDirectory(dir) ? try DataSpec(parsing: dir) : .shards(dir: dir)
        let grid = try ShardPreview.grid(try Dataset.load(spec), perRow: perRow)
        try Files.writeAtomically(grid.png, to: out)
        let layout = grid.blocks > 1 ? "\(counted(grid.rows.count, "class")) in \(grid.blocks) blocks side by side, rows " : "rows "
        print("\(out): " + layout + grid.rows.map { "\($0) \(grid.classNames[$0])" }.joined(separator: ", "))
    }
}
