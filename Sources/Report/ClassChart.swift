import Foundation

/// One bar per class as inline SVG, for reports of many classes (CIFAR-100), where a 100-row
/// table shows no pattern: a value in [0, 1] per class (filter pass rate, CAS accuracy), the
/// classes in index order along x, ticks every ten classes, each bar's class name and value in
/// its tooltip, and the classes without a value marked on the axis instead of drawn as zero.
enum ClassChart {
    struct Series {
        var label: String
        var color: String
        /// Per class of `classes`, the value, or nil when not measured.
        var values: [Double?]
    }

    static func svg(classes: [Int], names: [String], series: [Series], width: Double = 1000) -> String {
        let left = 44.0, right = 10.0, top = 22.0, rowHeight = 90.0, gap = 26.0, bottom = 24.0
        let plotW = width - left - right, n = max(classes.count, 1), bw = plotW / Double(n)
        let height = top + Double(series.count) * rowHeight + Double(max(series.count - 1, 0)) * gap + bottom
        var s = "<svg class=\"class-chart\" width=\"\(CurveChart.f(width))\" height=\"\(CurveChart.f(height))\" role=\"img\" "
        s += "aria-label=\"\(escape(series.map(\.label).joined(separator: " and "))) per class\">"
        for (r, one) in series.enumerated() {
            let y0 = top + Double(r) * (rowHeight + gap)
            s += "<text class=\"legend\" x=\"\(CurveChart.f(left))\" y=\"\(CurveChart.f(y0 - 6))\">\(escape(one.label))</text>"
            for v in [0.0, 0.5, 1.0] {
                let y = y0 + (1 - v) * rowHeight
                s += "<line x1=\"\(CurveChart.f(left))\" x2=\"\(CurveChart.f(left + plotW))\" y1=\"\(CurveChart.f(y))\" y2=\"\(CurveChart.f(y))\" stroke=\"#e9ecef\"/>"
                s += "<text class=\"tick\" x=\"\(CurveChart.f(left - 4))\" y=\"\(CurveChart.f(y + 4))\" text-anchor=\"end\">\(Int(v * 100))%</text>"
            }
            for (i, k) in classes.enumerated() {
                let x = left + Double(i) * bw
                let name = k < names.count ? names[k] : "class \(k)"
                guard let v = one.values[i] else {
                    s += "<rect x=\"\(CurveChart.f(x))\" y=\"\(CurveChart.f(y0 + rowHeight - 2))\" width=\"\(CurveChart.f(max(bw - 1, 0.5)))\" height=\"2\" fill=\"#ced4da\"><title>\(k) \(escape(name)): not measured</title></rect>"
                    continue
                }
                let h = min(max(v, 0), 1) * rowHeight
                s += "<rect x=\"\(CurveChart.f(x))\" y=\"\(CurveChart.f(y0 + rowHeight - h))\" width=\"\(CurveChart.f(max(bw - 1, 0.5)))\" height=\"\(CurveChart.f(h))\" fill=\"\(one.color)\">"
                s += "<title>\(k) \(escape(name)): \(DatasetReport.pct(v))</title></rect>"
            }
        }
        // Class-index ticks under the last row: every class up to 20, else every tenth.
        let every = classes.count <= 20 ? 1 : 10
        let axisY = height - bottom + 14
        for (i, k) in classes.enumerated() where i % every == 0 {
            s += "<text class=\"tick\" x=\"\(CurveChart.f(left + (Double(i) + 0.5) * bw))\" y=\"\(CurveChart.f(axisY))\" text-anchor=\"middle\">\(k)</text>"
        }
        return s + "</svg>"
    }
}
