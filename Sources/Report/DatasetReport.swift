import Datasets
import Engine
import Filter
import Foundation
import Measure
import Shards
import Support

/// report.md and report.html beside a dataset: what it holds (a sample grid per class), what the
/// filter did (acceptance per class), what it is worth (CAS, the error-versus-size curve,
/// compression) and whether it copies its real data (the audit). Everything comes from the
/// manifest and the shards; the HTML is one self-contained file (inline CSS, images as data:
/// URIs, the chart as inline SVG) that opens with no network.
public enum DatasetReport {
    public static let markdownFile = "report.md"
    public static let htmlFile = "report.html"

    /// Rewrites both files from the directory's manifest. `data` (the loaded dataset) and `real`
    /// (the audit's real set, for the closest pairs) are loaded when not given.
    public static func refresh(dir: String, data: Dataset? = nil, real: Dataset? = nil) throws {
        let manifest = try Manifest.read(Files.join(dir, ShardFiles.manifest))
        let dataset = try data ?? Dataset.load(.shards(dir: dir))
        let audit = try manifest.section(NearCopyAuditRecord.key, as: NearCopyAuditRecord.self)
        var realData = real
        if realData == nil, let audit, !audit.closest.isEmpty {
            realData = try? Dataset.load(spec: audit.real)
        }
        let content = try Content(manifest: manifest, data: dataset, real: realData)
        try Files.writeAtomically(Array(markdown(content).utf8), to: Files.join(dir, markdownFile))
        try Files.writeAtomically(Array(html(content).utf8), to: Files.join(dir, htmlFile))
    }

    /// What both renderings show.
    struct Content {
        let manifest: Manifest
        let data: Dataset
        let real: Dataset?
        let evaluations: DatasetEvaluations
        let audit: NearCopyAuditRecord?
        let membership: MembershipRecord?

        init(manifest: Manifest, data: Dataset, real: Dataset?) throws {
            self.manifest = manifest; self.data = data; self.real = real
            evaluations = try DatasetEvaluations.of(manifest)
            let section = try AuditSection.of(manifest)
            audit = section?.nearCopies
            membership = section?.membership
        }

        var classes: [Int] {
            let counts = data.classCounts
            return Array(Set(manifest.build.classes + counts.indices.filter { counts[$0] > 0 })).sorted()
        }
        func filterStats(_ c: Int) -> ClassStats? { manifest.filter?.classes.first { $0.classIndex == c } }
        /// The CAS the summary quotes: the compression placement's, else the latest.
        var headlineCAS: CASResult? { evaluations.compression?.cas ?? evaluations.softCompression?.cas ?? evaluations.cas.last }
    }

    // MARK: - Markdown

    static func markdown(_ c: Content) -> String {
        let m = c.manifest
        var out = ["# \(m.name)", "", summaryLines(c).map { "- \($0)" }.joined(separator: "\n"), ""]
        out.append("Images, the chart and the closest pairs of the audit are in report.html (self-contained).")
        out.append("")
        out.append("## Classes")
        out.append("")
        out.append("| class | samples | generated | accepted | pass rate | wrong class | low confidence | near-copy rejected | CAS accuracy | near-copies |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        let counts = c.data.classCounts
        for k in c.classes {
            let st = c.filterStats(k)
            let cas = c.headlineCAS?.perClass.first { $0.classIndex == k }
            let audit = c.audit?.perClass.first { $0.classIndex == k }
            out.append("| \(k) \(m.classes[k]) | \(counts[k]) | \(st.map { "\($0.generated)" } ?? "-") | \(st.map { "\($0.accepted)" } ?? "-") | "
                       + "\(st.map { passRate($0) } ?? "-") | \(st.map { "\($0.rejectedWrongClass)" } ?? "-") | "
                       + "\(st.map { "\($0.rejectedLowConfidence)" } ?? "-") | \(st?.rejectedNearCopy.map(String.init) ?? "-") | "
                       + "\(cas.map { pct($0.accuracy) } ?? "-") | \(audit.map { "\($0.nearCopies) (\(pct($0.share)))" } ?? "-") |")
        }
        if let p = c.evaluations.placements.first {
            out += ["", "## Error versus real training-set size", "", CompressionText.realCurve(p.curves), "",
                    CompressionText.placements(c.evaluations.placements, curves: p.curves)]
        }
        if !c.evaluations.cas.isEmpty {
            out += ["", "## CAS measurements", "", "| train | test | settings | steps | accuracy | error |", "| --- | --- | --- | ---: | ---: | ---: |"]
            for r in c.evaluations.cas {
                out.append("| \(r.train) | \(r.test) | \(settingsText(r.settings)) | \(r.steps) | \(pct(r.accuracy)) | \(pct(r.error)) |")
            }
        }
        if let a = c.audit {
            out += ["", "## Audit: near-copies of real images", "", auditLines(a).map { "- \($0)" }.joined(separator: "\n"), ""]
            let privacy = privacyLines(a.dcr, c.membership)
            if !privacy.isEmpty {
                out += ["## Audit: against a holdout", "", privacy.map { "- \($0)" }.joined(separator: "\n"), ""]
            }
            out.append("| pixel RMS to nearest real | min | 1% | 5% | median | 95% | max |")
            out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            out.append("| | \(d3(a.pixelRMS.min)) | \(d3(a.pixelRMS.p01)) | \(d3(a.pixelRMS.p05)) | \(d3(a.pixelRMS.median)) | \(d3(a.pixelRMS.p95)) | \(d3(a.pixelRMS.max)) |")
            if let cs = a.cosine {
                out.append("| feature cosine to most similar real | \(d3(cs.min)) | \(d3(cs.p01)) | \(d3(cs.p05)) | \(d3(cs.median)) | \(d3(cs.p95)) | \(d3(cs.max)) |")
            }
        }
        out += ["", "## Build", "", "- command: \(m.build.command), source \(m.build.source), tool \(m.build.tool)"]
        if let seed = m.build.seed { out.append("- seed \(seed), threshold \(m.build.threshold.map { String($0) } ?? "none (no filter)")") }
        for model in m.build.models {
            out.append("- \(model.role): \(model.path) (\(model.bytes.map { CompressionText.bytes(Double($0)) } ?? "size not recorded"), sha256 \(model.sha256.prefix(16))...)")
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func summaryLines(_ c: Content) -> [String] {
        let m = c.manifest
        var lines = ["\(counted(m.numSamples, "sample")) of \(counted(c.classes.count, "class")), \(m.imageShape.map(String.init).joined(separator: "x")) images, "
                     + "\(counted(m.shardlist.count, "shard")); source \(m.build.source)"]
        if let short = m.shortfallText { lines.append("short of its plan: \(short)") }
        if let f = m.filter, f.enabled {
            let g = f.classes.reduce(0) { $0 + $1.generated }, p = f.classes.reduce(0) { $0 + $1.accepted + $1.surplus }
            lines.append("filter: threshold \(f.threshold.map { String($0) } ?? "-"), \(p) of \(g) candidates passed (\(g > 0 ? pct(Double(p) / Double(g)) : "-"))")
        }
        if let cas = c.headlineCAS {
            lines.append("CAS: \(pct(cas.accuracy)) accuracy (\(pct(cas.error)) error) on \(cas.test), \(settingsText(cas.settings))"
                         + (cas.trainedClassesAccuracy.map { "; \(pct($0)) over the test samples of its \(counted(cas.trainedClasses?.count ?? 0, "class")) (the overall figure counts the other classes' samples as errors)" } ?? ""))
        }
        for p in c.evaluations.placements {
            var s = "equivalent real training set (labels: \(CompressionText.labels(p.cas.settings))): \(p.equivalentSameSteps.map(\.description) ?? "-") samples (same steps)"
            if let r = p.compressionRaw { s += String(format: "; models %@ vs that much real data %@ raw: %.2fx", CompressionText.bytes(Double(p.modelBytes ?? 0)), CompressionText.bytes(p.realBytesRaw ?? 0), r) }
            if let note = p.note { s += " (\(note))" }
            lines.append(s)
        }
        if let a = c.audit {
            lines.append("audit: \(a.nearCopies) near-copies of \(a.samples) samples (\(pct(a.share))) against \(a.real)")
        }
        return lines
    }

    static func auditLines(_ a: NearCopyAuditRecord) -> [String] {
        var lines = ["real set: \(a.real) (\(a.realSamples) images); feature model: \(a.model ?? "none (pixels only)")",
                     "rule: near-copy if pixel RMS < \(a.rule.pixelRMS)" + (a.rule.cosine.map { " or feature cosine > \($0)" } ?? ""),
                     "near-copies: \(a.nearCopies) of \(a.samples) (\(pct(a.share))); by pixels \(a.nearCopiesByPixels), by features \(a.nearCopiesByFeatures)"]
        lines.append("pixel RMS = ||a-b||_2 / sqrt(pixels) with pixels in [0, 1], to the nearest of the real images")
        return lines
    }

    /// The distance to the closest record against the holdout and the membership check, as lines.
    static func privacyLines(_ r: HoldoutDCRRecord?, _ mi: MembershipRecord?) -> [String] {
        var lines: [String] = []
        if let r {
            lines.append("distance to closest record: \(r.samples) samples against \(r.referenceSize) images each of \(r.training) "
                + "(of \(r.trainingAvailable)) and \(r.holdout) (of \(r.holdoutAvailable)), subsampled by seed \(r.seed.map(String.init) ?? "-")")
            func line(_ what: String, _ m: HoldoutDCRRecord.Measure) -> String {
                "\(what): closer to training than to holdout \(pct(m.closerToTraining)) (50% = no leak); 5th percentile DCR "
                    + "training \(String(format: "%.4f", m.training.p05)), holdout \(String(format: "%.4f", m.holdout.p05))"
            }
            lines.append(line("pixels", r.pixel))
            if let f = r.features { lines.append(line("features", f)) }
        }
        for m in mi?.models ?? [] {
            if let auc = m.auc, let adv = m.advantage {
                lines.append("membership inference, \(m.role) \(m.path): AUC \(String(format: "%.4f", auc)), advantage \(String(format: "%.4f", adv)) (0.5 / 0 = reveals nothing)")
            } else {
                lines.append("membership inference, \(m.role) \(m.path): skipped, \(m.skipped ?? "not checked")")
            }
        }
        return lines
    }

    static func settingsText(_ s: CASSettings) -> String {
        "\(s.arch), \(s.lengthText) of \(s.batchSize), Adam \(s.learningRate), \(s.cosine ? "cosine" : "constant"), labels: \(CompressionText.labels(s)), seed \(s.seed)"
    }
    static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
    static func d3(_ x: Double) -> String { String(format: "%.3f", x) }
    static func passRate(_ s: ClassStats) -> String {
        s.generated > 0 ? pct(Double(s.accepted + s.surplus) / Double(s.generated)) : "-"
    }

    // MARK: - HTML

    static let perRow = 10
    static let css = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#212529;max-width:1180px;margin:24px auto;padding:0 16px}
    h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dee2e6;padding-bottom:4px}
    .sub{color:#6c757d;margin:0 0 14px}
    .cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
    .card{border:1px solid #dee2e6;border-radius:6px;padding:8px 12px;min-width:170px;background:#f8f9fa}
    .card b{display:block;font-size:20px}.card span{color:#6c757d;font-size:12px}
    table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid #e9ecef;padding:4px 8px;text-align:right;vertical-align:middle}
    th{background:#f1f3f5;font-weight:600}td.l,th.l{text-align:left}
    img.strip,img.pair{image-rendering:pixelated;image-rendering:crisp-edges;display:block}
    .bar{display:inline-block;height:8px;background:#4dabf7;border-radius:2px;vertical-align:middle}
    .bar.bad{background:#fa5252}.muted{color:#868e96}
    svg text.tick{font-size:11px;fill:#495057}svg text.axis{font-size:12px;fill:#212529}svg text.legend{font-size:12px;fill:#212529}
    .pairs{display:flex;flex-wrap:wrap;gap:12px}.pairs figure{margin:0;text-align:center;font-size:11px;color:#495057}
    .pairs .two{display:flex;gap:2px}
    ul{margin:4px 0 4px 18px;padding:0}code{font-size:12px}
    """

    static func html(_ c: Content) -> String {
        let m = c.manifest
        var h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
        h += "<title>\(escape(m.name)) - synth dataset report</title><style>\(css)</style></head><body>\n"
        h += "<h1 id=\"title\">\(escape(m.name))</h1><p class=\"sub\">synth dataset report: \(escape(summaryLines(c)[0]))</p>\n"

        // Headline numbers.
        h += "<div class=\"cards\" id=\"summary\">"
        h += card("\(m.numSamples)", "samples")
        if let f = m.filter, f.enabled {
            let g = f.classes.reduce(0) { $0 + $1.generated }, p = f.classes.reduce(0) { $0 + $1.accepted + $1.surplus }
            h += card(g > 0 ? pct(Double(p) / Double(g)) : "-", "of candidates passed the filter (p > \(f.threshold.map { String($0) } ?? "-"))")
        }
        if let cas = c.headlineCAS { h += card(pct(cas.accuracy), "CAS accuracy on \(cas.test)") }
        for p in c.evaluations.placements {
            h += card(p.equivalentSameSteps.map(\.description) ?? "-", "real samples with the same error (same steps, labels: \(CompressionText.labels(p.cas.settings)))")
            if let r = p.compressionRaw { h += card(String(format: "%.2fx", r), "compression: real bytes (raw) / model bytes") }
        }
        if let a = c.audit { h += card(pct(a.share), "near-copies of real images (\(a.nearCopies) of \(a.samples))") }
        h += "</div>\n"

        // Per class: samples, acceptance, CAS, audit.
        h += "<h2>Samples and acceptance per class</h2>\n"
        let many = c.classes.count > manyClasses
        if many { h += classChart(c) }
        h += "<table id=\"classes\"><tr><th class=\"l\">class</th><th class=\"l\">first \(perRow) samples</th>"
        h += "<th>samples</th><th>generated</th><th>pass rate</th><th>wrong class</th><th>low conf.</th><th>CAS acc.</th><th>near-copies</th></tr>\n"
        let counts = c.data.classCounts
        for k in c.classes {
            let st = c.filterStats(k)
            let cas = c.headlineCAS?.perClass.first { $0.classIndex == k }
            let audit = c.audit?.perClass.first { $0.classIndex == k }
            let rate = st.flatMap { $0.generated > 0 ? Double($0.accepted + $0.surplus) / Double($0.generated) : nil }
            h += "<tr class=\"class-row\"><td class=\"l\">\(k) \(escape(m.classes[k]))</td><td class=\"l\">\(strip(c.data, classIndex: k, scale: many ? 1 : 2))</td>"
            h += "<td>\(counts[k])</td><td>\(st.map { "\($0.generated)" } ?? "-")</td>"
            h += "<td>\(rate.map { "<span class=\"bar\" style=\"width:\(Int(($0 * 60).rounded()))px\"></span> \(pct($0))" } ?? "-")</td>"
            h += "<td>\(st.map { "\($0.rejectedWrongClass)" } ?? "-")</td><td>\(st.map { "\($0.rejectedLowConfidence)" } ?? "-")</td>"
            h += "<td>\(cas.map { pct($0.accuracy) } ?? "-")</td>"
            h += "<td>\(audit.map { "\($0.nearCopies) (\(pct($0.share)))" } ?? "-")</td></tr>\n"
        }
        h += "</table>\n"
        if let st = m.filter?.classes, st.contains(where: { $0.rejectedNearCopy != nil }) {
            h += "<p class=\"muted\">Rejected as near-copies of the real set during the build: "
            h += st.map { "\(escape(m.classes[$0.classIndex])) \($0.rejectedNearCopy ?? 0)" }.joined(separator: ", ") + ".</p>\n"
        }

        // The curve.
        h += "<h2>Error versus real training-set size</h2>\n"
        let placements = c.evaluations.placements
        if let p = placements.first {
            let markers = placements.map { q in
                CurveChart.Marker(label: m.name + " (\(CompressionText.labels(q.cas.settings)))", error: q.cas.error, equivalent: q.equivalentSameSteps)
            }
            h += "<div id=\"curve\">" + CurveChart.svg(curves: p.curves, markers: markers) + "</div>\n"
            h += "<p class=\"muted\">\(escape(CompressionText.realCurve(p.curves).components(separatedBy: "\n")[0]))</p>\n"
            h += "<table id=\"compression\"><tr><th class=\"l\">dataset</th><th class=\"l\">labels</th><th>CAS error</th><th>= real samples (same steps)</th><th>(same epochs)</th>"
            h += "<th>model bytes</th><th>real bytes raw / PNG</th><th>compression raw / PNG</th></tr>"
            for q in placements {
                h += "<tr><td class=\"l\">\(escape(q.dataset))</td><td class=\"l\">\(CompressionText.labels(q.cas.settings))</td>"
                h += "<td>\(pct(q.cas.error))</td><td>\(escape(q.equivalentSameSteps?.description ?? "-"))</td>"
                h += "<td>\(escape(q.equivalentSameEpochs?.description ?? "-"))</td><td>\(q.modelBytes.map { CompressionText.bytes(Double($0)) } ?? "?")</td>"
                h += "<td>\(q.realBytesRaw.map { "\(CompressionText.bytes($0)) / \(CompressionText.bytes(q.realBytesPNG ?? 0))" } ?? "-")</td>"
                h += "<td>\(q.compressionRaw.map { String(format: "%.2fx / %.2fx", $0, q.compressionPNG ?? 0) } ?? "n/a")</td></tr>"
            }
            h += "</table>\n"
            for q in placements { if let note = q.note { h += "<p class=\"muted\">\(escape(note))</p>\n" } }
            h += "<table id=\"real-curve\"><tr><th>real samples</th><th>error, same steps</th><th>error, same epochs</th><th>steps (same epochs)</th></tr>"
            for pt in p.curves.steps.points {
                let e = p.curves.epochCurve.points.first { $0.size == pt.size }
                h += "<tr><td>\(pt.size)</td><td>\(pct(pt.error))</td><td>\(e.map { pct($0.error) } ?? "-")</td><td>\(e.map { "\($0.steps)" } ?? "-")</td></tr>"
            }
            h += "</table>\n"
        } else {
            h += "<p class=\"muted\" id=\"curve\">Not measured yet: run <code>synth compress --synthetic DIR</code>.</p>\n"
        }
        if !c.evaluations.cas.isEmpty {
            h += "<h2>CAS measurements</h2>\n<table id=\"cas\"><tr><th class=\"l\">train</th><th class=\"l\">test</th><th class=\"l\">settings</th><th>accuracy</th><th>error</th></tr>"
            for r in c.evaluations.cas {
                h += "<tr><td class=\"l\">\(escape(r.train))</td><td class=\"l\">\(escape(r.test))</td><td class=\"l\">\(escape(settingsText(r.settings)))</td>"
                h += "<td>\(pct(r.accuracy))</td><td>\(pct(r.error))</td></tr>"
            }
            h += "</table>\n"
        }

        // The audit.
        h += "<h2>Audit: near-copies of real images</h2>\n"
        if let a = c.audit {
            h += "<ul id=\"audit\">" + auditLines(a).map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
            h += "<table><tr><th class=\"l\">distance to the nearest real image</th><th>min</th><th>1%</th><th>5%</th><th>median</th><th>95%</th><th>max</th></tr>"
            let s = a.pixelRMS
            h += "<tr><td class=\"l\">pixel RMS</td>" + [s.min, s.p01, s.p05, s.median, s.p95, s.max].map { "<td>\(d3($0))</td>" }.joined() + "</tr>"
            if let cs = a.cosine {
                h += "<tr><td class=\"l\">feature cosine (most similar)</td>" + [cs.min, cs.p01, cs.p05, cs.median, cs.p95, cs.max].map { "<td>\(d3($0))</td>" }.joined() + "</tr>"
            }
            h += "</table>\n" + histogram(a) + "\n"
            let privacy = privacyLines(a.dcr, c.membership)
            if !privacy.isEmpty {
                h += "<h3>Against a holdout</h3>\n<ul id=\"privacy\">" + privacy.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
            }
            if let r = a.dcr {
                h += dcrHistogram(r.pixel, axis: "pixel RMS to the closest record") + "\n"
                if let f = r.features { h += dcrHistogram(f, axis: "feature distance to the closest record") + "\n" }
            }
            if let real = c.real, !a.closest.isEmpty {
                h += "<p>The \(a.closest.count) samples closest to a real image (left: synthetic, right: its nearest real training image):</p><div class=\"pairs\" id=\"pairs\">"
                for p in a.closest where p.sample < c.data.count && p.realIndex < real.count {
                    let hit = a.rule.pixelRMS > p.pixelRMS || (a.rule.cosine.map { c in (p.cosine ?? -2) > c } ?? false)
                    h += "<figure><div class=\"two\">\(image(c.data, index: p.sample, scale: 3, cls: "pair"))\(image(real, index: p.realIndex, scale: 3, cls: "pair"))</div>"
                    h += "<figcaption>\(escape(m.classes[p.classIndex])) #\(p.sample)<br>RMS \(d3(p.pixelRMS))\(p.cosine.map { ", cos \(d3($0))" } ?? "")\(hit ? " <b>copy</b>" : "")</figcaption></figure>"
                }
                h += "</div>\n"
            }
        } else {
            h += "<p class=\"muted\" id=\"audit\">Not audited yet: run <code>synth audit DIR --real SPEC</code>.</p>\n"
        }

        // The build.
        h += "<h2>Build</h2>\n<ul id=\"build\"><li>\(escape("command \(m.build.command), source \(m.build.source), \(m.build.tool)"))</li>"
        if let seed = m.build.seed { h += "<li>\(escape("seed \(seed), threshold \(m.build.threshold.map { String($0) } ?? "none (no filter)"), per class \(m.build.perClass ?? 0)"))</li>" }
        for model in m.build.models {
            h += "<li>\(escape("\(model.role): \(model.path), \(model.bytes.map { CompressionText.bytes(Double($0)) } ?? "size not recorded"), sha256 \(model.sha256)"))</li>"
        }
        h += "</ul>\n</body></html>\n"
        return h
    }

    static func card(_ value: String, _ label: String) -> String {
        "<div class=\"card\"><b>\(escape(value))</b><span>\(escape(label))</span></div>"
    }

    /// Past this many classes the table's strips are drawn at their own size, not doubled, and a
    /// chart of every class's pass rate and CAS accuracy comes first (a 100-row table shows no pattern).
    static let manyClasses = 20

    /// Pass rate and CAS accuracy of every class, one bar each (only the series measured).
    static func classChart(_ c: Content) -> String {
        var series: [ClassChart.Series] = []
        if let f = c.manifest.filter, f.enabled {
            series.append(.init(label: "filter pass rate", color: "#4dabf7", values: c.classes.map { k in
                c.filterStats(k).flatMap { $0.generated > 0 ? Double($0.accepted + $0.surplus) / Double($0.generated) : nil }
            }))
        }
        if let cas = c.headlineCAS {
            series.append(.init(label: "CAS accuracy (\(cas.test))", color: "#40c057", values: c.classes.map { k in
                cas.perClass.first { $0.classIndex == k }.map(\.accuracy)
            }))
        }
        guard !series.isEmpty else { return "" }
        return "<div id=\"class-chart\">" + ClassChart.svg(classes: c.classes, names: c.manifest.classes, series: series)
            + "</div>\n<p class=\"muted\">One bar per class in index order; hover a bar for its class and value.</p>\n"
    }

    /// The first `perRow` samples of a class side by side, one PNG, shown at `scale` times its size.
    static func strip(_ data: Dataset, classIndex k: Int, scale: Int) -> String {
        let picked = Array((0..<data.count).lazy.filter { data.labels[$0] == k }.prefix(perRow))
        guard !picked.isEmpty else { return "<span class=\"muted\">none</span>" }
        var strip = ImageGrid(rows: 1, columns: picked.count, channels: data.channels, cellHeight: data.height,
                              cellWidth: data.width, gap: 1, background: 255)
        for (column, i) in picked.enumerated() { strip.place(data.image(i), row: 0, column: column) }
        return "<img class=\"strip\" alt=\"samples of class \(k)\" width=\"\(strip.width * scale)\" height=\"\(strip.height * scale)\" src=\"data:image/png;base64,\(Data(strip.png).base64EncodedString())\">"
    }

    static func image(_ data: Dataset, index i: Int, scale: Int, cls: String) -> String {
        let png = Array(data.image(i)).withUnsafeBufferPointer {
            PNG.encode(pixels: $0, width: data.width, height: data.height, channels: data.channels)
        }
        return "<img class=\"\(cls)\" alt=\"image \(i)\" width=\"\(data.width * scale)\" height=\"\(data.height * scale)\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
    }

    /// Both DCR distributions overlaid: training (red) and holdout (blue) bars, translucent.
    static func dcrHistogram(_ m: HoldoutDCRRecord.Measure, axis: String) -> String {
        let top = max(m.trainingHistogram.max() ?? 1, m.holdoutHistogram.max() ?? 1, 1)
        let series = [(m.trainingHistogram, "training"), (m.holdoutHistogram, "holdout")].map { bins, what in
            (bins: bins, color: { (_: Int) in what == "training" ? "#fa5252" : "#4dabf7" }, title: what + ": ")
        }
        return bars(series, top: top, histogramMax: m.histogramMax, opacity: 0.55, cls: "histogram dcr",
                    label: "histograms of the \(axis), training and holdout", axis: "\(axis) (red: training, blue: holdout)")
    }

    /// The pixel-RMS histogram as bars, the threshold marked.
    static func histogram(_ a: NearCopyAuditRecord) -> String {
        let bins = a.pixelHistogram
        let color = { (i: Int) in Double(i) / Double(bins.count) * a.histogramMax < a.rule.pixelRMS ? "#fa5252" : "#4dabf7" }
        return bars([(bins: bins, color: color, title: "")], top: max(bins.max() ?? 1, 1), histogramMax: a.histogramMax, opacity: 1,
                    cls: "histogram", label: "histogram of pixel RMS to the nearest real image",
                    axis: "pixel RMS to the nearest real image (red: below the near-copy threshold)")
    }

    /// Equal-width bins over [0, histogramMax) as SVG bars, one series over another, with ticks.
    static func bars(_ series: [(bins: [Int], color: (Int) -> String, title: String)], top: Int, histogramMax: Double,
                     opacity: Double, cls: String, label: String, axis: String) -> String {
        let count = max(series.first?.bins.count ?? 1, 1)
        let w = 560.0, hgt = 150.0, left = 40.0, bottom = 30.0, bw = (w - left - 10) / Double(count)
        let fill = opacity < 1 ? " fill-opacity=\"\(opacity)\"" : ""
        var s = "<svg class=\"\(cls)\" width=\"\(Int(w))\" height=\"\(Int(hgt))\" role=\"img\" aria-label=\"\(escape(label))\">"
        for one in series {
            for (i, n) in one.bins.enumerated() {
                let bh = Double(n) / Double(top) * (hgt - bottom - 10)
                s += "<rect x=\"\(CurveChart.f(left + Double(i) * bw))\" y=\"\(CurveChart.f(hgt - bottom - bh))\" width=\"\(CurveChart.f(bw - 1))\" height=\"\(CurveChart.f(bh))\" fill=\"\(one.color(i))\"\(fill)><title>\(one.title)\(n) samples</title></rect>"
            }
        }
        for k in 0...5 {
            let v = Double(k) / 5 * histogramMax
            s += "<text class=\"tick\" x=\"\(CurveChart.f(left + Double(k) / 5 * (w - left - 10)))\" y=\"\(CurveChart.f(hgt - bottom + 14))\" text-anchor=\"middle\">\(String(format: "%.2f", v))\(k == 5 ? "+" : "")</text>"
        }
        s += "<text class=\"axis\" x=\"\(CurveChart.f(left + (w - left) / 2))\" y=\"\(CurveChart.f(hgt - 2))\" text-anchor=\"middle\">\(escape(axis))</text>"
        s += "<text class=\"tick\" x=\"\(CurveChart.f(left - 4))\" y=\"18\" text-anchor=\"end\">\(top)</text>"
        return s + "</svg>"
    }
}
