import ArgumentParser
import Engine

@main
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Build labelled synthetic image datasets from models instead of from data.",
        subcommands: []
    )
}
