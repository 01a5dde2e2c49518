/// Reverse-mode automatic differentiation over the graph that ops record in `Tensor.node`.
public enum Autodiff {
    /// Ops record history only while this is true and some input requires a gradient.
    /// Task- and thread-local, so one thread evaluating without gradients never switches off
    /// recording on another (tests run concurrently; so do build workers).
    @TaskLocal public static var isRecording = true

    /// Runs `body` without recording (evaluation, inference, filters, EMA updates).
    @discardableResult
    public static func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
        try $isRecording.withValue(false) { try body() }
    }

    static func shouldRecord(_ inputs: [Tensor]) -> Bool {
        isRecording && inputs.contains { $0.requiresGrad }
    }
}

extension Tensor {
    /// Attaches an op's backward pass to its output, micrograd's `out._backward = _backward`: an
    /// op allocates `self`, computes the forward into it, then hands over the closure that pushes
    /// `out.grad` into the parents, so its source reads in execution order. Records only while
    /// `Autodiff.shouldRecord(parents)`; the closure receives the output as its argument (it must
    /// not capture it, so the graph holds no reference cycle) and runs only if the output takes
    /// part in a `backward()` walk. An op that needs to know during its forward pass whether a
    /// backward will follow (to keep buffers for it) asks `Autodiff.shouldRecord(parents)` itself.
    func withBackward(parents: [Tensor], _ backward: @escaping (_ out: Tensor) -> Void) -> Tensor {
        if Autodiff.shouldRecord(parents) {
            requiresGrad = true
            node = Node(parents: parents, backward: backward)
        }
        return self
    }

    /// Backpropagates from this scalar (or from `seed`, a gradient of this tensor's shape).
    ///
    /// Interior gradients and saved activations are released as soon as they have been pushed to
    /// the parents, so peak memory is that of the forward pass plus one layer's gradients.
    public func backward(seed: Tensor? = nil) {
        precondition(seed != nil || count == 1, "backward() without a seed needs a scalar, got \(shape)")
        guard requiresGrad else { return }
        let g = gradPtr
        if let seed {
            precondition(seed.count == count, "seed shape \(seed.shape) does not match \(shape)")
            for i in 0..<count { g[i] += seed.ptr[i] }
        } else {
            g[0] += 1
        }
        for t in topologicalOrder().reversed() {
            guard let node = t.node else { continue }
            if t.grad != nil { node.backward(t) }
            t.node = nil
            if t !== self { t.grad = nil }
        }
    }

    /// Post-order of the graph below self (parents before children), iterative to spare the stack.
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        seen.insert(ObjectIdentifier(self))
        while let (t, i) = stack.popLast() {
            let parents = t.node?.parents ?? []
            if i < parents.count {
                stack.append((t, i + 1))
                let p = parents[i]
                if p.node != nil, seen.insert(ObjectIdentifier(p)).inserted {
                    stack.append((p, 0))
                }
            } else {
                order.append(t)
            }
        }
        return order
    }
}
