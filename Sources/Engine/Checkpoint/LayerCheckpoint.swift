import Support
extension Layer {
    /// The layer's state as safetensors entries, in state-dict order, sharing the tensors' storage.
    /// Integer state (num_batches_tracked) is written as I64, as PyTorch stores it.
    public func stateEntries() -> [SafetensorsEntry] {
        stateDict().map {
            SafetensorsEntry(name: $0.name, shape: $0.tensor.shape, dtype: $0.isInteger ? .i64 : .f32, values: $0.tensor.storage)
        }
    }

    /// Copies `entries` into the layer's tensors, strictly like PyTorch's `load_state_dict`:
    /// every expected tensor must be present with exactly the same shape, and no other tensor may
    /// be. Nothing is modified unless everything matches. `file` names the source in errors.
    public func load(_ entries: [String: SafetensorsEntry], file: String) throws {
        let state = stateDict()
        let missing = state.map(\.name).filter { entries[$0] == nil }
        if !missing.isEmpty {
            throw SynthError.file(file, "missing \(listed(missing, noun: "tensor")) the model expects")
        }
        for s in state {
            let e = entries[s.name]!
            guard e.shape == s.tensor.shape else {
                throw SynthError.file(file, "tensor '\(s.name)' has shape \(e.shape) in the file but the model expects \(s.tensor.shape)")
            }
        }
        let expected = Set(state.map(\.name))
        let unexpected = entries.keys.filter { !expected.contains($0) }.sorted()
        if !unexpected.isEmpty {
            throw SynthError.file(file, "unexpected \(listed(unexpected, noun: "tensor")) the model does not have")
        }
        for s in state where s.tensor.count > 0 {
            s.tensor.ptr.update(from: entries[s.name]!.values.pointer, count: s.tensor.count)
        }
    }
}

/// "tensor 'a'" or "tensors 'a', 'b', 'c' and 4 more": one line however many there are.
private func listed(_ names: [String], noun: String) -> String {
    let shown = names.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
    let more = names.count > 3 ? " and \(names.count - 3) more" : ""
    return names.count == 1 ? "\(noun) \(shown)" : "\(noun)s \(shown)\(more)"
}
