import Foundation
import Synth
import Testing

/// `synth help X` for every command: examples that run as written (they name only files of the
/// repository) and survive an 80-column terminal, prose that re-wraps cleanly, plain words.
@Suite struct HelpTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    struct Command { let path: [String]; let discussion: String; let shown: Bool }

    /// Every command with its discussion, from the parser's own dump of the help.
    static func commands() throws -> [Command] {
        let r = try SynthProcess.run(["--experimental-dump-help"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        var out: [Command] = []
        func walk(_ c: [String: Any], _ path: [String]) {
            out.append(Command(path: path, discussion: c["discussion"] as? String ?? "", shown: c["shouldDisplay"] as? Bool ?? true))
            for s in c["subcommands"] as? [[String: Any]] ?? [] { walk(s, path + [s["commandName"] as? String ?? "?"]) }
        }
        walk(json?["command"] as? [String: Any] ?? [:], [])
        return out.filter { $0.path != ["help"] }
    }

    static func help(_ path: [String]) throws -> String {
        let r = try SynthProcess.run(["help"] + path, environment: ["COLUMNS": "80"])
        #expect(r.status == 0, "synth help \(path): \(r.stderr)")
        return r.stdout
    }

    /// The example commands of a discussion: lines "  synth ...", with their "\" continuations.
    static func examples(_ discussion: String) -> [String] {
        var commands: [String] = [], current: String?
        for raw in discussion.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let c = current {
                current = c + " " + line
            } else if raw.hasPrefix("  synth ") {
                current = line
            }
            if let c = current, !c.hasSuffix("\\") {
                commands.append(c); current = nil
            } else if let c = current {
                current = String(c.dropLast()).trimmingCharacters(in: .whitespaces)
            }
        }
        return commands
    }

    @Test func everyCommandHasAnExampleNamingOnlyFilesOfTheRepository() throws {
        let outputs: Set<String> = ["--out", "--checkpoint", "--curve", "--preview"]
        for command in try Self.commands() where command.shown && !command.path.isEmpty && command.path != ["bench"] {
            let examples = Self.examples(command.discussion)
            #expect(!examples.isEmpty, "synth help \(command.path.joined(separator: " ")) has no example")
            for example in examples {
                if !example.hasPrefix("synth " + command.path.joined(separator: " ")) && command.path != ["merge"] {
                    Issue.record("synth help \(command.path.joined(separator: " ")) shows an example of another command: \(example)")
                }
                let words = example.split(separator: " ").map(String.init)
                for (i, word) in words.enumerated() where i == 0 || !outputs.contains(words[i - 1]) {
                    let file = word.hasPrefix("--") ? "" : word
                    let named = file.hasSuffix(".safetensors") || ["models/", "deploy/", "manifests/", "scripts/", "bench/"].contains { file.hasPrefix($0) }
                    if named {
                        #expect(FileManager.default.fileExists(atPath: Self.root + "/" + file),
                                "synth help \(command.path.joined(separator: " ")): \(file) is not in the repository (\(example))")
                    }
                }
            }
        }
    }

    /// The parser re-wraps each discussion line to the terminal: prose is one line per paragraph
    /// (a hard-wrapped paragraph breaks again at 80 columns), and every indented line (examples,
    /// lists) fits in 80 columns, appearing whole in the help.
    @Test func helpSurvivesAnEightyColumnTerminal() throws {
        for command in try Self.commands() {
            let name = "synth help \(command.path.joined(separator: " "))"
            let lines = command.discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let prose = lines.map { !$0.isEmpty && !$0.hasPrefix(" ") }
            for i in lines.indices.dropFirst() where prose[i] && prose[i - 1] && !lines[i - 1].hasSuffix(":") {
                Issue.record("\(name): a hard-wrapped paragraph at \"\(lines[i])\"")
            }
            guard !command.discussion.isEmpty else { continue }
            let shown = Set(try Self.help(command.path).split(separator: "\n").map(String.init))
            for line in lines where line.hasPrefix(" ") && !shown.contains(line) {
                Issue.record("\(name): \"\(line)\" is broken at 80 columns")
            }
        }
    }

    @Test func helpSaysWhatThingsAreInPlainWords() throws {
        for command in try Self.commands() {
            let text = try Self.help(command.path)
            for jargon in ["seed 00", "§", "eq. ", "Table I"] {
                #expect(!text.contains(jargon), "synth help \(command.path.joined(separator: " ")) says \"\(jargon)\"")
            }
        }
    }

    /// Every CaG setting key, with its meaning, from the one table the sampler reads.
    @Test func buildHelpListsEveryCaGSetting() throws {
        let text = try Self.help(["build"])
        for setting in CaGConfig.settingTable {
            #expect(text.contains("  \(setting.key)=\(setting.values)"), "synth help build does not list \(setting.key)")
            #expect(text.contains(setting.meaning.split(separator: " ").prefix(4).joined(separator: " ")), "no meaning for \(setting.key)")
            for former in setting.formerKeys {
                #expect(text.contains("formerly \(former)"), "synth help build does not say \(former) is \(setting.key)'s former key")
            }
        }
        #expect(Set(CaGConfig.settingTable.map(\.key)) == CaGConfig.optionKeys)
    }
}
