import Support

/// Where a dataset comes from: the one spec syntax used wherever the tool reads data.
///
///     fashion-mnist[:train|test]          files under $SYNTH_DATA_DIR or /usr/share/datasets/fashion-mnist
///     idx:IMAGES,LABELS                   an MNIST-format pair, gzip or raw
///     cifar10:DIR[:train|test]            the CIFAR-10 binary version
///     cifar100:DIR[:train|test]           the CIFAR-100 binary version (fine labels)
///     folder:DIR                          one sub-folder of PNG files per class
///     shards:DIR                          WebDataset shards (read by the Shards module)
///
/// Any of them may end in `@N`: the first N samples, class-balanced (`Dataset.balancedPrefixIndices`),
/// or in `@~N`: every sample but those (the complement of `@N`, e.g. `fashion-mnist:test@5000` and
/// `fashion-mnist:test@~5000` are the two halves of the test set, a holdout beside an export).
/// The text after the last '@' is read as N unless it contains a '/', so paths may hold '@' as long
/// as a '/' follows it. The split defaults to train.
public indirect enum DataSpec: Equatable, Hashable, Sendable, CustomStringConvertible {
    case fashionMNIST(Split)
    case idx(images: String, labels: String)
    case cifar10(dir: String, split: Split)
    case cifar100(dir: String, split: Split)
    case folder(dir: String)
    case shards(dir: String)
    case balancedPrefix(DataSpec, count: Int)
    /// `@~N`: the samples `@N` leaves out, in file order.
    case balancedRest(DataSpec, count: Int)

    public enum Split: String, Sendable, CaseIterable {
        case train, test
    }

    public static let kinds = ["fashion-mnist", "idx", "cifar10", "cifar100", "folder", "shards"]

    public init(parsing text: String) throws {
        func bad(_ problem: String) -> SynthError { SynthError("data spec \"\(text)\": \(problem)") }

        var body = Substring(text)
        var limit: Int?, rest = false
        if let at = body.lastIndex(of: "@"), !body[body.index(after: at)...].contains("/") {
            var digits = body[body.index(after: at)...]
            if digits.first == "~" { rest = true; digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = Int(digits), n > 0 else {
                throw bad("@\(body[body.index(after: at)...]) is not a positive sample count (expected e.g. @1000, or @~1000 for the rest)")
            }
            limit = n
            body = body[..<at]
        }

        let kind: Substring, value: Substring?
        if let colon = body.firstIndex(of: ":") {
            kind = body[..<colon]
            value = body[body.index(after: colon)...]
        } else {
            kind = body
            value = nil
        }

        func path(_ what: String) throws -> String {
            guard let value, !value.isEmpty else { throw bad("missing \(what) (expected \(kind):\(what))") }
            return String(value)
        }
        // "DIR[:train|test]": a trailing ":train"/":test" is the split, the rest the directory.
        func dirAndSplit() throws -> (String, Split) {
            let value = try path("DIR")
            if let colon = value.lastIndex(of: ":"),
               let split = Split(rawValue: String(value[value.index(after: colon)...])) {
                let dir = String(value[..<colon])
                guard !dir.isEmpty else { throw bad("missing DIR (expected \(kind):DIR[:train|test])") }
                return (dir, split)
            }
            return (value, .train)
        }

        var spec: DataSpec
        switch kind {
        case "fashion-mnist":
            if let value {
                guard let split = Split(rawValue: String(value)) else {
                    throw bad("unknown split \"\(value)\" (expected fashion-mnist:train or fashion-mnist:test)")
                }
                spec = .fashionMNIST(split)
            } else {
                spec = .fashionMNIST(.train)
            }
        case "idx":
            let parts = try path("IMAGES,LABELS").split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw bad("expected idx:IMAGES,LABELS (two file paths separated by one comma)")
            }
            spec = .idx(images: String(parts[0]), labels: String(parts[1]))
        case "cifar10":
            let (dir, split) = try dirAndSplit()
            spec = .cifar10(dir: dir, split: split)
        case "cifar100":
            let (dir, split) = try dirAndSplit()
            spec = .cifar100(dir: dir, split: split)
        case "folder":
            spec = .folder(dir: try path("DIR"))
        case "shards":
            spec = .shards(dir: try path("DIR"))
        default:
            throw bad("unknown kind \"\(kind)\" (expected one of \(DataSpec.kinds.joined(separator: ", ")))")
        }
        if let limit { spec = rest ? .balancedRest(spec, count: limit) : .balancedPrefix(spec, count: limit) }
        self = spec
    }

    /// The canonical spec text; parsing it gives back the same spec.
    public var description: String {
        switch self {
        case .fashionMNIST(let split): return "fashion-mnist:\(split.rawValue)"
        case .idx(let images, let labels): return "idx:\(images),\(labels)"
        case .cifar10(let dir, let split): return "cifar10:\(dir):\(split.rawValue)"
        case .cifar100(let dir, let split): return "cifar100:\(dir):\(split.rawValue)"
        case .folder(let dir): return "folder:\(dir)"
        case .shards(let dir): return "shards:\(dir)"
        case .balancedPrefix(let base, let n): return "\(base)@\(n)"
        case .balancedRest(let base, let n): return "\(base)@~\(n)"
        }
    }

    /// The spec without its `@N` or `@~N` suffix.
    public var base: DataSpec {
        switch self {
        case .balancedPrefix(let base, _), .balancedRest(let base, _): return base.base
        default: return self
        }
    }

    /// Whether the spec names a part of its base (`@N` or `@~N`).
    public var isSubset: Bool { base != self }

    /// N of an `@N` suffix, if any.
    public var limit: Int? {
        if case .balancedPrefix(_, let n) = self { return n }
        return nil
    }
}
