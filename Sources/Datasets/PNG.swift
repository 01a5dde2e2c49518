import CPNG
import Support

/// 8-bit gray and RGB PNG in memory. Decoding goes through libpng's simplified API (png_image),
/// which catches libpng's longjmp-based errors in C and reports them in the struct, so no longjmp
/// crosses Swift. Encoding is `PNGEncoder` (zlib directly: the format we write is tiny, and
/// reusing one deflate stream per thread is what makes packing fast).
///
/// Pixels are planar (CHW), like `Dataset` and tensors: for RGB all red bytes, then green, then
/// blue. The codec interleaves and de-interleaves internally.
public enum PNG {
    /// Encodes `channels` (1 = gray, 3 = RGB) planes of `width` x `height` bytes; see `PNGEncoder`
    /// for the exact file. Thread-safe: encoders come from a small shared pool.
    public static func encode(pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int,
                              channels: Int) -> [UInt8] {
        let encoder = EncoderPool.shared.take()
        defer { EncoderPool.shared.give(encoder) }
        return encoder.encode(pixels: pixels, width: width, height: height, channels: channels)
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

    /// How many decoded bytes one byte of PNG can stand for at most: deflate expands 1032:1, and
    /// a 1-bit palette pixel becomes 4 bytes of RGBA (32 per stored byte). A header that claims
    /// more than the file can hold is refused before the image is allocated.
    static let maxDecodedPerFileByte = 1032 * 32

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
            // Both are below 2^32, so the product of three cannot overflow after the first check.
            guard width * height <= maxDecodedBytes, width * height * stored <= maxDecodedBytes else {
                png_image_free(&image)
                throw SynthError.file(path, "PNG of \(width)x\(height) pixels is too large (synth decodes at most \(maxDecodedBytes) bytes)")
            }
            guard width * height * stored <= bytes.count * maxDecodedPerFileByte else {
                png_image_free(&image)
                throw SynthError.file(path, "corrupt PNG: its header claims \(width)x\(height) pixels, more than \(bytes.count) bytes can hold")
            }
            image.format = (color ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY))
                | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
            image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
            // Uninitialised: libpng writes every byte or fails, and a failure leaves no page touched
            // that the data did not reach.
            var ok: Int32 = 0
            let size = width * height * stored
            let decoded = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                ok = png_image_finish_read(&image, nil, buffer.baseAddress, 0, nil)
                count = ok != 0 ? size : 0
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
