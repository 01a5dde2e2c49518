import CPNG
import Engine

/// 8-bit gray and RGB PNG in memory, through libpng's simplified API (png_image), which catches
/// libpng's longjmp-based errors in C and reports them in the struct, so no longjmp crosses Swift.
///
/// Pixels are planar (CHW), like `Dataset` and tensors: for RGB all red bytes, then green, then
/// blue. The codec interleaves and de-interleaves internally.
public enum PNG {
    /// Encodes `channels` (1 = gray, 3 = RGB) planes of `width` x `height` bytes.
    ///
    /// The output is deterministic: a signature, IHDR (8-bit, non-interlaced), an sRGB chunk,
    /// IDAT and IEND; never tIME or text chunks. libpng's fast settings (no row filter, zlib
    /// level 3) are used: for small images the per-image cost dominates and the files stay
    /// within a few percent of the default settings' size.
    public static func encode(pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                              channels: Int) -> [UInt8] {
        precondition(channels == 1 || channels == 3, "PNG.encode: \(channels) channels (1 or 3)")
        precondition(width > 0 && height > 0 && pixels.count == width * height * channels,
                     "PNG.encode: \(pixels.count) bytes for \(width)x\(height)x\(channels)")
        let interleaved: [UInt8]? = channels == 3 ? interleave(pixels, plane: width * height) : nil
        let rawRows = height * (1 + width * channels)
        var capacity = rawRows + rawRows / 8 + 1024
        while true {
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            image.width = UInt32(width)
            image.height = UInt32(height)
            image.format = channels == 3 ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
            image.flags = UInt32(PNG_IMAGE_FLAG_FAST)
            var written = capacity
            var out = [UInt8](repeating: 0, count: capacity)
            let ok = out.withUnsafeMutableBytes { dst in
                if let interleaved {
                    return interleaved.withUnsafeBytes {
                        png_image_write_to_memory(&image, dst.baseAddress, &written, 0, $0.baseAddress, 0, nil)
                    }
                }
                return png_image_write_to_memory(&image, dst.baseAddress, &written, 0, pixels.baseAddress, 0, nil)
            }
            if ok != 0 {
                out.removeSubrange(written...)
                return out
            }
            // libpng reports the size it needs when the buffer was too small; any other failure
            // with valid arguments means it ran out of memory.
            precondition(written > capacity, "PNG.encode: libpng failed: \(message(of: &image))")
            capacity = written
        }
    }

    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
        pixels.withUnsafeBufferPointer { encode(pixels: $0, width: width, height: height, channels: channels) }
    }

    public struct Image: Equatable, Sendable {
        /// Planar (CHW) bytes.
        public var pixels: [UInt8]
        public var width: Int
        public var height: Int
        /// 1 (gray) or 3 (RGB).
        public var channels: Int

        public init(pixels: [UInt8], width: Int, height: Int, channels: Int) {
            self.pixels = pixels
            self.width = width
            self.height = height
            self.channels = channels
        }
    }

    /// Largest decoded image accepted (bytes), so a corrupt header cannot ask for gigabytes.
    public static let maxDecodedBytes = 1 << 28

    /// Decodes any PNG to 8-bit gray (gray files) or RGB (colour and palette files). 16-bit
    /// samples are scaled to 8 bits (assumed sRGB-encoded when no gAMA/sRGB chunk says otherwise);
    /// an alpha channel is dropped, not composited, as `PIL.Image.convert("L"/"RGB")` does.
    /// Bad input throws `SynthError.file(path, ...)`; `path` only labels the message.
    public static func decode(_ bytes: [UInt8], path: String = "<png>") throws -> Image {
        guard bytes.count >= 8, bytes[0 ..< 8].elementsEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) else {
            throw SynthError.file(path, bytes.isEmpty ? "empty file, expected a PNG image" : "not a PNG image (bad signature)")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        return try bytes.withUnsafeBytes { raw -> Image in
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw SynthError.file(path, "corrupt PNG: \(message(of: &image))")
            }
            let color = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
            let alpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
            let channels = color ? 3 : 1, stored = channels + (alpha ? 1 : 0)
            let width = Int(image.width), height = Int(image.height)
            guard width * height * stored <= maxDecodedBytes else {
                png_image_free(&image)
                throw SynthError.file(path, "PNG of \(width)x\(height) pixels is too large")
            }
            image.format = (color ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY))
                | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
            image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
            var decoded = [UInt8](repeating: 0, count: width * height * stored)
            let ok = decoded.withUnsafeMutableBytes {
                png_image_finish_read(&image, nil, $0.baseAddress, 0, nil)
            }
            guard ok != 0 else { throw SynthError.file(path, "corrupt PNG: \(message(of: &image))") }
            let pixels = stored == 1 ? decoded : deinterleave(decoded, plane: width * height, stride: stored, keep: channels)
            return Image(pixels: pixels, width: width, height: height, channels: channels)
        }
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let text = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            return text.isEmpty ? "unknown libpng error" : text
        }
    }

    private static func interleave(_ planes: UnsafeBufferPointer<UInt8>, plane: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: plane * 3) { out, initialized in
            let src = planes.baseAddress!, dst = out.baseAddress!
            for j in 0..<plane {
                dst[3 * j] = src[j]
                dst[3 * j + 1] = src[plane + j]
                dst[3 * j + 2] = src[2 * plane + j]
            }
            initialized = plane * 3
        }
    }

    private static func deinterleave(_ pixels: [UInt8], plane: Int, stride: Int, keep: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: plane * keep) { out, initialized in
            pixels.withUnsafeBufferPointer { src in
                for c in 0..<keep {
                    let dst = out.baseAddress! + c * plane
                    for j in 0..<plane { dst[j] = src[j * stride + c] }
                }
            }
            initialized = plane * keep
        }
    }
}
