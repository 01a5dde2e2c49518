import Support
extension Adam {
    /// The optimiser's moments and per-parameter step counts as checkpoint entries, named
    /// `<prefix><i>.exp_avg`, `.exp_avg_sq` and `.step` after torch's optimizer state_dict
    /// (parameter i in the order the optimiser was given). They share the live buffers, so write
    /// them before the next step. A resumed run that loads them continues bit for bit.
    public func stateEntries(prefix: String) -> [SafetensorsEntry] {
        var out: [SafetensorsEntry] = []
        for (i, p) in parameters.enumerated() {
            out.append(SafetensorsEntry(name: "\(prefix)\(i).exp_avg", shape: p.shape, values: m[i]))
            out.append(SafetensorsEntry(name: "\(prefix)\(i).exp_avg_sq", shape: p.shape, values: v[i]))
            out.append(SafetensorsEntry(name: "\(prefix)\(i).step", shape: [], dtype: .i64, values: [Float(steps[i])]))
        }
        return out
    }

    /// Restores what `stateEntries(prefix:)` wrote; `file` names the checkpoint in errors.
    /// Nothing changes unless every entry is present with the right shape.
    public func loadState(_ entries: [String: SafetensorsEntry], prefix: String, file: String) throws {
        for (i, p) in parameters.enumerated() {
            for suffix in ["exp_avg", "exp_avg_sq"] {
                guard let e = entries["\(prefix)\(i).\(suffix)"] else {
                    throw SynthError.file(file, "missing optimiser state '\(prefix)\(i).\(suffix)'")
                }
                guard e.shape == p.shape else {
                    throw SynthError.file(file, "optimiser state '\(prefix)\(i).\(suffix)' has shape \(e.shape), the parameter \(p.shape)")
                }
            }
            guard let s = entries["\(prefix)\(i).step"], s.count == 1, s.values.pointer[0] >= 0 else {
                throw SynthError.file(file, "missing or invalid optimiser state '\(prefix)\(i).step'")
            }
        }
        for (i, p) in parameters.enumerated() {
            m[i].pointer.update(from: entries["\(prefix)\(i).exp_avg"]!.values.pointer, count: p.count)
            v[i].pointer.update(from: entries["\(prefix)\(i).exp_avg_sq"]!.values.pointer, count: p.count)
            steps[i] = Int(entries["\(prefix)\(i).step"]!.values.pointer[0])
        }
    }
}
