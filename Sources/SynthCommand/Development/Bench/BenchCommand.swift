import ArgumentParser

/// Throughput of the hot loops, for BENCHMARKS.md. Each subcommand mirrors a reference script
/// in ../shared/reference/ so the two can be run side by side in one shell.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the throughput of synth's hot loops (see BENCHMARKS.md).",
        subcommands: [BenchTrainCommand.self, BenchCaGCommand.self, BenchGANCommand.self, BenchInputGradientCommand.self]
    )
}
