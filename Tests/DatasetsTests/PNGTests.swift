import Datasets
import Foundation
import Support
import Testing

@Suite struct PNGTests {
    /// Chunk types in file order.
    func chunks(_ png: [UInt8]) -> [String] {
        var types: [String] = []
        var at = 8
        while at + 8 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            types.append(String(decoding: png[(at + 4)..<(at + 8)], as: UTF8.self))
            at += 12 + length
        }
        return types
    }

    @Test func grayRoundTrip() throws {
        let pixels = (0..<(28 * 28)).map { UInt8(truncatingIfNeeded: $0 * 37 ^ ($0 >> 3)) }
        let png = PNG.encode(pixels: pixels, width: 28, height: 28, channels: 1)
        let image = try PNG.decode(png)
        #expect(image == PNG.Image(pixels: pixels, width: 28, height: 28, channels: 1))
        #expect(png[25] == 0 && png[24] == 8 && png[28] == 0)  // colour type gray, 8-bit, not interlaced
    }

    @Test func rgbRoundTripIsPlanar() throws {
        let (w, h) = (7, 5)
        let pixels = (0..<(3 * w * h)).map { UInt8(truncatingIfNeeded: $0 * 13 + 5) }
        let png = PNG.encode(pixels: pixels, width: w, height: h, channels: 3)
        let image = try PNG.decode(png)
        #expect(image.pixels == pixels && image.width == w && image.height == h && image.channels == 3)
        #expect(png[25] == 2 && png[24] == 8)
    }

    @Test func deterministicWithoutTimeOrTextChunks() {
        let pixels = (0..<(32 * 32 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 24) }
        let a = PNG.encode(pixels: pixels, width: 32, height: 32, channels: 3)
        let b = PNG.encode(pixels: pixels, width: 32, height: 32, channels: 3)
        #expect(a == b)
        let types = chunks(a)
        #expect(types == ["IHDR", "IDAT", "IEND"])
        for forbidden in ["tIME", "tEXt", "zTXt", "iTXt"] { #expect(!types.contains(forbidden)) }
    }

    /// One encoder across images of different sizes and kinds must not leak state between them.
    @Test func reusedEncoderIsStateless() throws {
        let encoder = PNGEncoder()
        var rng = RNG(seed: 5)
        for (w, h, c) in [(40, 30, 3), (5, 4, 3), (20, 3, 3), (40, 30, 1), (3, 9, 3), (64, 64, 3), (2, 2, 1), (7, 3, 3)] {
            let pixels = (0..<(w * h * c)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let png = encoder.encode(pixels: pixels, width: w, height: h, channels: c)
            #expect(png == PNGEncoder().encode(pixels: pixels, width: w, height: h, channels: c))
            #expect(try PNG.decode(png) == PNG.Image(pixels: pixels, width: w, height: h, channels: c))
        }
    }

    @Test func largeIncompressibleImageFitsTheOutputBuffer() throws {
        var rng = RNG(seed: 3)
        let pixels = (0..<(300 * 200 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let png = PNG.encode(pixels: pixels, width: 300, height: 200, channels: 3)
        #expect(try PNG.decode(png).pixels == pixels)
    }

    @Test func corruptInputIsAnError() {
        let good = PNG.encode(pixels: [UInt8](repeating: 3, count: 64), width: 8, height: 8, channels: 1)
        expectSynthError(mentioning: "x.png", "empty") { _ = try PNG.decode([], path: "x.png") }
        expectSynthError(mentioning: "x.png", "not a PNG") { _ = try PNG.decode(Array("GIF89a....".utf8), path: "x.png") }
        for cut in [8, 20, 33, good.count / 2, good.count - 13] {
            expectSynthError(mentioning: "x.png", "corrupt PNG") { _ = try PNG.decode(Array(good.prefix(cut)), path: "x.png") }
        }
        var badHeader = good
        badHeader[16] = 0xff  // width's high byte: too large, and the CRC no longer matches
        expectSynthError(mentioning: "x.png", "corrupt PNG") { _ = try PNG.decode(badHeader, path: "x.png") }
    }

    /// PNGs from another encoder, in the modes datasets found online use; PIL is the reference
    /// for what the pixels are.
    @Test(.enabled(if: pythonWithPIL().path != nil, "needs SYNTH_PYTHON with PIL (\(pythonWithPIL().reason))"))
    func decodesFilesWrittenByPIL() throws {
        let python = pythonWithPIL().path!
        let dir = try TemporaryDirectory()
        let script = """
        import sys
        from PIL import Image
        out = sys.argv[1]
        W, H = 6, 4
        def v(x, y, c): return (x * 37 + y * 11 + c * 70) % 256
        gray = Image.new("L", (W, H)); gray.putdata([v(x, y, 0) for y in range(H) for x in range(W)])
        gray.save(out + "/L.png")
        rgb = Image.new("RGB", (W, H)); rgb.putdata([tuple(v(x, y, c) for c in range(3)) for y in range(H) for x in range(W)])
        rgb.save(out + "/RGB.png")
        rgba = rgb.copy(); rgba.putalpha(gray); rgba.save(out + "/RGBA.png")
        la = gray.convert("LA"); la.putalpha(Image.new("L", (W, H), 17)); la.save(out + "/LA.png")
        rgb.quantize(colors=256).save(out + "/P.png")
        rgb.quantize(colors=256).convert("RGB").save(out + "/P-as-RGB.png")
        g16 = Image.new("I;16", (W, H)); g16.putdata([v(x, y, 0) * 257 for y in range(H) for x in range(W)])
        g16.save(out + "/I16.png")
        gray.save(out + "/L-best.png", compress_level=9, optimize=True)
        Image.new("1", (W, H), 1).save(out + "/bilevel.png")
        """
        let (status, errors) = try runPython(python, script, [dir.path])
        try #require(status == 0, "PIL script failed: \(errors)")

        func value(_ x: Int, _ y: Int, _ c: Int) -> UInt8 { UInt8((x * 37 + y * 11 + c * 70) % 256) }
        let (w, h) = (6, 4)
        let grayPlane = (0..<h).flatMap { y in (0..<w).map { x in value(x, y, 0) } }
        let rgbPlanes = (0..<3).flatMap { c in (0..<h).flatMap { y in (0..<w).map { x in value(x, y, c) } } }
        func decode(_ name: String) throws -> PNG.Image {
            try PNG.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file(name)))), path: name)
        }

        #expect(try decode("L.png") == PNG.Image(pixels: grayPlane, width: w, height: h, channels: 1))
        #expect(try decode("L-best.png").pixels == grayPlane)
        #expect(try decode("RGB.png") == PNG.Image(pixels: rgbPlanes, width: w, height: h, channels: 3))
        #expect(try decode("RGBA.png") == PNG.Image(pixels: rgbPlanes, width: w, height: h, channels: 3))
        #expect(try decode("LA.png") == PNG.Image(pixels: grayPlane, width: w, height: h, channels: 1))
        #expect(try decode("I16.png") == PNG.Image(pixels: grayPlane, width: w, height: h, channels: 1))
        #expect(try decode("bilevel.png") == PNG.Image(pixels: [UInt8](repeating: 255, count: w * h), width: w, height: h, channels: 1))
        // A palette image decodes to the colours PIL itself expands it to.
        let palette = try decode("P.png")
        let expanded = try decode("P-as-RGB.png")
        #expect(palette.channels == 3 && palette.pixels == expanded.pixels)
    }

    /// The encoder writes PNG by hand (zlib directly), so an independent decoder must agree.
    @Test(.enabled(if: pythonWithPIL().path != nil, "needs SYNTH_PYTHON with PIL (\(pythonWithPIL().reason))"))
    func pilReadsOurFiles() throws {
        let python = pythonWithPIL().path!
        let dir = try TemporaryDirectory()
        var rng = RNG(seed: 9)
        let shapes = [(28, 28, 1), (32, 32, 3), (1, 1, 1), (1, 1, 3), (13, 5, 3), (300, 7, 1)]
        var expected: [String: [UInt8]] = [:]
        for (k, (w, h, c)) in shapes.enumerated() {
            // Smooth gradients plus noise, so both filters and the run-length coder are exercised.
            let planar = (0..<(w * h * c)).map { i -> UInt8 in
                let x = i % w, y = (i / w) % h, ch = i / (w * h)
                return UInt8(truncatingIfNeeded: x * 3 + y * 5 + ch * 60 + Int(rng.next() % 4))
            }
            try dir.write("ours-\(k).png", PNG.encode(pixels: planar, width: w, height: h, channels: c))
            // PIL's tobytes() is interleaved (HWC).
            expected["ours-\(k).png"] = (0..<(w * h)).flatMap { p in (0..<c).map { planar[$0 * w * h + p] } }
        }
        let script = """
        import sys, os
        from PIL import Image
        d = sys.argv[1]
        for name in sorted(os.listdir(d)):
            if name.endswith(".png"):
                im = Image.open(os.path.join(d, name)); im.load()
                assert im.mode in ("L", "RGB"), im.mode
                assert not im.info.get("transparency"), name
                open(os.path.join(d, name + ".raw"), "wb").write(im.tobytes())
        """
        let (status, errors) = try runPython(python, script, [dir.path])
        try #require(status == 0, "PIL could not read our PNGs: \(errors)")
        for (name, pixels) in expected {
            let decoded = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file(name + ".raw"))))
            #expect(decoded == pixels, "PIL decodes \(name) differently")
        }
    }
}
