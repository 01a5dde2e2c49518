import ArgumentParser
import Support

/// `--source-option KEY=VALUE`, repeatable: the one way a command takes a source's settings (for
/// CaG, the keys of CaGConfig.settingTable), shared by `synth build` and `synth cag-priors`.
struct SourceOptions: ParsableArguments {
    @Option(parsing: .singleValue, help: "Source setting KEY=VALUE (repeatable).") var sourceOption: [String] = []

    /// The settings given, by key (a later KEY=VALUE of the same key wins).
    func values() throws -> [String: String] {
        var options: [String: String] = [:]
        for item in sourceOption {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw SynthError("--source-option '\(item)': expected KEY=VALUE")
            }
            options[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        return options
    }
}
