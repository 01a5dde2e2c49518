import Support

extension Dataset {
    /// This dataset with its labels moved into another label space (a test set's classes, or a
    /// model's), matching classes by name, since a label number alone means nothing across
    /// datasets: a `folder:` dataset numbers its classes by sorted folder name, so folders named
    /// by garment make "Ankle boot" class 0 where Fashion-MNIST has "T-shirt/top".
    ///
    /// Each class that has samples is matched, in this order, by
    ///   - its exact name ("Trouser");
    ///   - an index: a name that is a number ("0", as a WebDataset that numbers its classes), or a
    ///     number and a separator before a name ("0_T-shirt", "07-sneaker"; the name after the
    ///     number, if it names one of the target's classes, must name the same class);
    ///   - its name ignoring case and everything but letters and digits, where a target name with
    ///     a '/' (which no folder can hold) also answers to each part ("T-shirt_top", "t-shirt"
    ///     and "top" are "T-shirt/top").
    /// A class that matches none, or two classes that match one, is an error naming both datasets.
    public func inLabelSpace(of names: [String], named target: String) throws -> Dataset {
        if classNames == names { return self }
        let used = Set(labels).sorted()
        var map = [Int](repeating: -1, count: classCount)
        var takenBy: [Int: String] = [:]
        for c in used {
            let name = classNames[c]
            guard let t = try Dataset.match(name, in: names, source: self.name, target: target) else {
                throw SynthError("\(self.name): class '\(name)' is not a class of \(target) (\(names.joined(separator: ", "))); "
                    + "name the classes as \(target) does (case, '-', '_' and ' ' aside) or by index (0, 0_T-shirt)")
            }
            if let other = takenBy[t] {
                throw SynthError("\(self.name): classes '\(other)' and '\(name)' both match '\(names[t])' of \(target)")
            }
            takenBy[t] = name
            map[c] = t
        }
        var out = Dataset(name: self.name, pixels: pixels, count: count, channels: channels, height: height, width: width,
                          labels: labels.map { map[$0] }, classNames: names)
        if let soft = softLabels {
            // Each stored probability goes to its class's new column; classes without samples have
            // no column in the target, and their (small) probabilities are dropped.
            var moved = [Float](repeating: 0, count: count * names.count)
            for i in 0..<count {
                for c in used { moved[i * names.count + map[c]] = soft[i * classCount + c] }
            }
            out.softLabels = moved
        }
        return out
    }

    /// The index in `names` that class name `name` matches (see `inLabelSpace`), nil if none.
    static func match(_ name: String, in names: [String], source: String, target: String) throws -> Int? {
        if let exact = names.firstIndex(of: name) { return exact }
        let byName = loose(name).isEmpty ? nil : names.indices.filter { t in
            let parts = [names[t]] + (names[t].contains("/") ? names[t].split(separator: "/").map(String.init) : [])
            return parts.contains { loose($0) == loose(name) }
        }
        let digits = name.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty {
            let rest = name.dropFirst(digits.count)
            if rest.isEmpty || "_- .".contains(rest.first!) {
                guard let index = Int(digits), index < names.count else {
                    throw SynthError("\(source): class '\(name)' is index \(digits), \(target) has \(names.count) classes (0..<\(names.count))")
                }
                let named = rest.isEmpty ? [] : (try match(String(rest.dropFirst()), in: names, source: source, target: target)).map { [$0] } ?? []
                if let other = named.first, other != index {
                    throw SynthError("\(source): class '\(name)' is index \(index), '\(names[index])' in \(target), but names '\(names[other])'")
                }
                return index
            }
        }
        if let byName, byName.count == 1 { return byName[0] }
        return nil
    }

    /// Lowercased letters and digits only: "T-shirt_top" and "t-shirt/top" are both "tshirttop".
    static func loose(_ name: String) -> String {
        String(name.lowercased().filter { $0.isLetter || $0.isNumber })
    }
}
