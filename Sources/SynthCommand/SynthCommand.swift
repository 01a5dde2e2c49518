import ArgumentParser
import Datasets
import Engine
import Foundation
import Support

@main
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Build labelled synthetic image datasets from models instead of from data.",
        discussion: """
        Data specs, wherever a command reads data: fashion-mnist:train|test, idx:IMAGES,LABELS, cifar10:DIR[:train|test], cifar100:DIR[:train|test], folder:DIR, shards:DIR (a dataset synth wrote); add @N for the first N samples, class-balanced.

        folder:DIR holds one sub-folder of PNG files per class, all of one size. Classes are numbered by sorted folder name, so where a folder dataset meets another dataset or a model (train --test, cas, eval, compress, replay-eval) its classes are matched by name: name the folders as the other side's classes (case, spaces, '-' and '_' aside; a '/' in a class name cannot be in a folder name, so either part of it will do: T-shirt or T-shirt_top for T-shirt/top), or by index (0, 7, 0_T-shirt). A folder that matches no class is refused.

        Exit codes: 0 success, 1 a check failed, 2 bad usage or bad input (one line names the file).
        """,
        version: SynthVersion.string,
        // Grouped by what they do, as the folders beside this file are.
        groupedSubcommands: [
            CommandGroup(name: "Dataset", subcommands: [
                BuildCommand.self, MergeCommand.self, VerifyCommand.self, PackCommand.self, PreviewCommand.self]),
            CommandGroup(name: "Measure", subcommands: [
                CasCommand.self, CompressCommand.self, ReplayEvalCommand.self, AuditCommand.self, ReportCommand.self,
                EvalCommand.self, FrechetCommand.self]),
            CommandGroup(name: "Model", subcommands: [
                TrainCommand.self, TrainMAECommand.self, StatsCommand.self, TrainGANCommand.self, ConditionCommand.self]),
            CommandGroup(name: "Development", subcommands: [CaGPriorsCommand.self, BenchCommand.self]),
        ]
    )

    /// Runs the command line with synth's exit-code contract: every failure is one line on stderr;
    /// 2 for bad usage or input, 1 for a failed check, never a stack trace.
    static func main() {
        // A full disk must surface as a write error (EFBIG/ENOSPC) naming the file, not kill us.
        signal(SIGXFSZ, SIG_IGN)
        do {
            // Before any work: AVX2 kernels where OpenBLAS fell back to older ones, and no chosen
            // core the CPU cannot run (see BLASKernels).
            try BLASKernels.upgradeProcessIfNeeded()
            var command = try parseAsRoot()
            try command.run()
        } catch let e as SynthError {
            FileHandle.standardError.write(Data("synth: \(e.message)\n".utf8))
            Foundation.exit(e.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // One line, as for every other failure: the parser's message without the usage block.
            let message = Synth.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            FileHandle.standardError.write(Data("synth: \(message) (see synth --help)\n".utf8))
            Foundation.exit(2)
        }
    }
}
