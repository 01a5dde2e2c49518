import Datasets
import Testing

@Suite struct SpecTests {
    @Test func parsesEveryKind() throws {
        let cases: [(String, DataSpec)] = [
            ("fashion-mnist:train", .fashionMNIST(.train)),
            ("fashion-mnist:test", .fashionMNIST(.test)),
            ("fashion-mnist", .fashionMNIST(.train)),
            ("idx:a/images.gz,b/labels", .idx(images: "a/images.gz", labels: "b/labels")),
            ("cifar10:/data/cifar", .cifar10(dir: "/data/cifar", split: .train)),
            ("cifar10:/data/cifar:test", .cifar10(dir: "/data/cifar", split: .test)),
            ("cifar100:rel/dir:train", .cifar100(dir: "rel/dir", split: .train)),
            ("cifar100:C:\\x", .cifar100(dir: "C:\\x", split: .train)),
            ("folder:/tmp/pngs", .folder(dir: "/tmp/pngs")),
            ("shards:out", .shards(dir: "out")),
            ("fashion-mnist:train@1000", .balancedPrefix(.fashionMNIST(.train), count: 1000)),
            ("cifar10:d:test@5", .balancedPrefix(.cifar10(dir: "d", split: .test), count: 5)),
            ("folder:/data/run@2/x", .folder(dir: "/data/run@2/x")),
            ("folder:/data/run@2/x@30", .balancedPrefix(.folder(dir: "/data/run@2/x"), count: 30)),
            ("fashion-mnist:test@~5000", .balancedRest(.fashionMNIST(.test), count: 5000)),
            ("folder:/data/run@2/x@~3", .balancedRest(.folder(dir: "/data/run@2/x"), count: 3)),
        ]
        for (text, expected) in cases {
            let spec = try DataSpec(parsing: text)
            #expect(spec == expected, "\(text)")
            #expect(try DataSpec(parsing: spec.description) == spec, "round trip of \(text)")
        }
        let limited = try DataSpec(parsing: "shards:x@7")
        #expect(limited.limit == 7 && limited.base == .shards(dir: "x"))
        #expect(try DataSpec(parsing: "shards:x").limit == nil)
        let rest = try DataSpec(parsing: "shards:x@~7")
        #expect(rest.base == .shards(dir: "x") && rest.isSubset && limited.isSubset && !DataSpec.shards(dir: "x").isSubset)
        #expect(try DataSpec(parsing: "fashion-mnist:test@10").description == "fashion-mnist:test@10")
    }

    @Test func parseErrorsNameTheSpec() {
        let cases: [(String, String)] = [
            ("mnist:train", "unknown kind"),
            ("", "unknown kind"),
            ("fashion-mnist:val", "unknown split"),
            ("idx:only-one-file", "IMAGES,LABELS"),
            ("idx:a,b,c", "IMAGES,LABELS"),
            ("idx:,b", "IMAGES,LABELS"),
            ("idx", "missing"),
            ("cifar10", "missing DIR"),
            ("cifar10:", "missing DIR"),
            ("cifar100::test", "missing DIR"),
            ("folder:", "missing DIR"),
            ("shards", "missing DIR"),
            ("fashion-mnist:train@0", "positive"),
            ("fashion-mnist:test@~0", "positive"),
            ("fashion-mnist:test@~", "positive"),
            ("fashion-mnist:train@-3", "positive"),
            ("fashion-mnist:train@abc", "positive"),
            ("fashion-mnist:train@", "positive"),
            ("fashion-mnist:train@1.5", "positive"),
            ("fashion-mnist:train@99999999999999999999999", "positive"),
        ]
        for (text, problem) in cases {
            expectSynthError(mentioning: "data spec \"\(text)\"", problem) { _ = try DataSpec(parsing: text) }
        }
    }

    @Test func shardsSpecNamesTheDirectory() throws {
        // All test targets share one process: whether or not another target has registered the
        // Shards loader by now, a missing directory is a one-line error naming it.
        expectSynthError(mentioning: "some/dir") { _ = try Dataset.load(spec: "shards:some/dir") }
    }

    /// Fuzzing finding (Fuzz/corpus/data-spec/finding-carriage-return): a spec holding control
    /// characters was quoted as it stood, so the one-line message became several lines on a
    /// terminal. Messages escape them now (SynthError.oneLine).
    @Test func controlCharactersInASpecStayOnOneLine() {
        do {
            _ = try DataSpec(parsing: "s\0\0\r\nt@12")
            Issue.record("parsed")
        } catch {
            let message = "\(error)"
            #expect(message == #"data spec "s\0\0\r\nt@12": unknown kind "s\0\0\r\nt" (expected one of fashion-mnist, idx, cifar10, cifar100, folder, shards)"#, "\(message)")
            let lines = message.split(whereSeparator: \.isNewline).count
            #expect(lines == 1)
        }
    }
}
