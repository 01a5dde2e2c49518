import Foundation
import Measure

/// The error-versus-size chart as inline SVG (no namespace URL needed inside HTML5): test error
/// against real training-set size on a log axis, the same-steps and same-epochs real curves, and
/// each synthetic dataset as a horizontal line at its CAS error with a marker where it meets the
/// same-steps curve (its equivalent real size).
public enum CurveChart {
    public struct Marker: Sendable {
        public var label: String
        public var error: Double
        public var equivalent: ErrorCurve.Equivalent?
        public init(label: String, error: Double, equivalent: ErrorCurve.Equivalent?) {
            self.label = label; self.error = error; self.equivalent = equivalent
        }
    }

    static let palette = ["#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c"]

    public static func svg(curves: RealCurves, markers: [Marker], width: Double = 680, height: Double = 380) -> String {
        let left = 62.0, right = 170.0, top = 20.0, bottom = 48.0
        let plotW = width - left - right, plotH = height - top - bottom
        let sizes = curves.steps.points.map { Double($0.size) } + curves.epochCurve.points.map { Double($0.size) }
        let errors = curves.steps.points.map(\.error) + curves.epochCurve.points.map(\.error) + markers.map(\.error)
        guard let minSize = sizes.min(), let maxSize = sizes.max(), let maxError = errors.max() else {
            return "<svg width=\"\(Int(width))\" height=\"40\" role=\"img\"><text x=\"8\" y=\"24\">no real curve</text></svg>"
        }
        let lx0 = log10(minSize / 1.4), lx1 = log10(maxSize * 1.4)
        let yTop = niceCeil(maxError * 1.1), yBottom = max(0, niceFloor((errors.min() ?? 0) * 0.8))
        func x(_ size: Double) -> Double { left + (log10(size) - lx0) / (lx1 - lx0) * plotW }
        func y(_ e: Double) -> Double { top + (yTop - e) / max(yTop - yBottom, 1e-9) * plotH }
        var s = "<svg class=\"curve\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-label=\"test error against real training-set size\">"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"#fff\" stroke=\"#adb5bd\"/>"
        // Grid and ticks: y every nice step, x at the measured sizes.
        let step = niceStep((yTop - yBottom) / 6)
        var e = (yBottom / step).rounded(.up) * step
        while e <= yTop + 1e-12 {
            s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y(e)))\" y2=\"\(f(y(e)))\" stroke=\"#e9ecef\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(e) + 4))\" text-anchor=\"end\" class=\"tick\">\(percentLabel(e))</text>"
            e += step
        }
        for size in Array(Set(sizes)).sorted() {
            s += "<line x1=\"\(f(x(size)))\" x2=\"\(f(x(size)))\" y1=\"\(f(top))\" y2=\"\(f(top + plotH))\" stroke=\"#e9ecef\"/>"
            s += "<text x=\"\(f(x(size)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\" class=\"tick\">\(sizeLabel(size))</text>"
        }
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" class=\"axis\">real training samples (log scale)</text>"
        s += "<text x=\"14\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" class=\"axis\" transform=\"rotate(-90 14 \(f(top + plotH / 2)))\">test error</text>"

        func polyline(_ c: ErrorCurve, color: String, dash: String?) -> String {
            let pts = c.points.map { "\(f(x(Double($0.size)))),\(f(y($0.error)))" }.joined(separator: " ")
            var out = "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>"
            for p in c.points {
                out += "<circle cx=\"\(f(x(Double(p.size))))\" cy=\"\(f(y(p.error)))\" r=\"3.5\" fill=\"\(color)\"><title>\(p.size) real: \(percentLabel(p.error, digits: 2)) error</title></circle>"
            }
            return out
        }
        s += polyline(curves.epochCurve, color: "#74c0fc", dash: "6 4")
        s += polyline(curves.steps, color: "#1864ab", dash: nil)

        var legend: [(String, String, Bool)] = [("#1864ab", "real, same steps", false), ("#74c0fc", "real, same epochs", true)]
        for (k, m) in markers.enumerated() {
            let color = palette[k % palette.count]
            let ym = y(m.error)
            s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(ym))\" y2=\"\(f(ym))\" stroke=\"\(color)\" stroke-width=\"1.2\" stroke-dasharray=\"2 3\"/>"
            if let eq = m.equivalent {
                let xm = x(min(max(eq.bound, minSize / 1.3), maxSize * 1.3))
                s += "<path d=\"M \(f(xm)) \(f(ym - 7)) L \(f(xm + 7)) \(f(ym)) L \(f(xm)) \(f(ym + 7)) L \(f(xm - 7)) \(f(ym)) Z\" fill=\"\(color)\" class=\"marker\"><title>\(escape(m.label)): \(percentLabel(m.error, digits: 2)) error = \(escape(eq.description)) real samples</title></path>"
            }
            legend.append((color, "\(m.label) (\(percentLabel(m.error, digits: 1)))", true))
        }
        for (k, item) in legend.enumerated() {
            let ly = top + 10 + Double(k) * 20, lx = left + plotW + 12
            s += "<line x1=\"\(f(lx))\" x2=\"\(f(lx + 22))\" y1=\"\(f(ly))\" y2=\"\(f(ly))\" stroke=\"\(item.0)\" stroke-width=\"2\"\(item.2 ? " stroke-dasharray=\"4 3\"" : "")/>"
            s += "<text x=\"\(f(lx + 28))\" y=\"\(f(ly + 4))\" class=\"legend\">\(escape(String(item.1.prefix(24))))</text>"
        }
        return s + "</svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func sizeLabel(_ n: Double) -> String { n >= 1000 && n.truncatingRemainder(dividingBy: 1000) == 0 ? "\(Int(n / 1000))k" : "\(Int(n))" }
    static func percentLabel(_ e: Double, digits: Int = 0) -> String { String(format: "%.\(digits)f%%", 100 * e) }
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0 else { return 0.01 }
        let p = pow(10, floor(log10(raw))), m = raw / p
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p
    }
    static func niceCeil(_ v: Double) -> Double { let s = niceStep(v / 5); return (v / s).rounded(.up) * s }
    static func niceFloor(_ v: Double) -> Double { let s = niceStep(max(v, 1e-3) / 5); return (v / s).rounded(.down) * s }
}

/// Text for HTML element content and attribute values. "://" is broken up as well, so nothing a
/// user typed (a path, a name) can look like a network reference in the page.
func escape(_ s: String) -> String {
    var out = ""
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case ":": out += "&#58;"
        default: out.append(ch)
        }
    }
    return out
}
