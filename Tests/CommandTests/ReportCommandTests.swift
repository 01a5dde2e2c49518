import Foundation
import Testing
import PipelineFixtures
import TestSupport

/// Headless Chromium from Debian (package `chromium`), or nil.
enum Chromium {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The DOM after loading `file` with every network request sent to a dead proxy.
    static func dumpDOM(_ file: String, profile: String) throws -> (status: Int32, dom: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path!)
        p.arguments = ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--proxy-server=127.0.0.1:9",
                       "--user-data-dir=\(profile)", "--dump-dom", "file://\(file)"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let e = drain(err)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        e.wait(); p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e.data, as: UTF8.self))
    }
}

/// report.html after cas, compress and audit: self-contained (no http(s) reference at all) and
/// rendered by a real browser with no network.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct ReportCommandTests {
    @Test(.enabled(if: Chromium.path != nil, "needs Debian's chromium (scripts/setup installs it) to render report.html"))
    func reportRendersInChromiumWithoutNetwork() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("ds")
        try ExperimentCommandTests.replayBuild(ds)
        let tiny = ExperimentCommandTests.tinyTraining
        #expect(try SynthProcess.run(["compress", "--synthetic", ds, "--real", "fashion-mnist:train@300", "--test", "fashion-mnist:test@200",
                                      "--sizes", "50,100,200"] + tiny).status == 0)
        #expect(try SynthProcess.run(["audit", ds, "--real", "fashion-mnist:train@2000", "--no-features"]).status == 0)
        let r = try SynthProcess.run(["report", ds])
        #expect(r.status == 0, "\(r.stderr)")

        let html = try String(contentsOfFile: ds + "/report.html", encoding: .utf8)
        #expect(!html.contains("http://") && !html.contains("https://"), "report.html references the network")
        #expect(!html.contains("src=\"file") && !html.contains("href="), "report.html references other files")
        #expect(html.contains("data:image/png;base64,"))
        let md = try String(contentsOfFile: ds + "/report.md", encoding: .utf8)
        #expect(md.contains("## Classes") && md.contains("## Audit") && md.contains("| real samples |"))

        let (status, dom, stderr) = try Chromium.dumpDOM(ds + "/report.html", profile: dir.file("chromium-profile"))
        #expect(status == 0, "chromium failed: \(stderr.suffix(500))")
        for needle in ["id=\"title\"", "id=\"summary\"", "id=\"classes\"", "id=\"curve\"", "<svg", "<polyline", "id=\"audit\"",
                       "id=\"pairs\"", "id=\"build\""] {
            #expect(dom.contains(needle), "rendered DOM lacks \(needle)")
        }
        #expect(dom.components(separatedBy: "class=\"class-row\"").count - 1 == 10)
        #expect(dom.components(separatedBy: "<img class=\"strip\"").count - 1 == 10)
    }

    @Test func reportNeedsADatasetDirectory() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        expectFailure(try SynthProcess.run(["report", dir.path]), mentioning: "no manifest.json")
    }
}
