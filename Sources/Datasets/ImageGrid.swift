/// Equal-sized images laid out in rows and columns on a plain background, one planar (CHW)
/// picture: every contact sheet synth draws (`synth preview`, the report's per-class strips,
/// `train-gan`/`condition --preview`) is one of these, each with its own
/// look. The cell at (row, column) starts `margin + row * (cellHeight + gap)` pixels down and
/// `margin + column * (cellWidth + gap)` across; after the last row and column come
/// `trailingMargin` pixels (`margin` unless given).
public struct ImageGrid {
    public let channels: Int
    public let cellHeight: Int
    public let cellWidth: Int
    public let gap: Int
    public let margin: Int
    /// The whole picture's size in pixels.
    public let height: Int
    public let width: Int
    /// Planar: channels * height * width bytes.
    public private(set) var pixels: [UInt8]

    public init(rows: Int, columns: Int, channels: Int, cellHeight: Int, cellWidth: Int, gap: Int, margin: Int = 0,
                trailingMargin: Int? = nil, background: UInt8) {
        precondition(rows > 0 && columns > 0, "ImageGrid: \(rows) rows, \(columns) columns")
        self.channels = channels
        self.cellHeight = cellHeight
        self.cellWidth = cellWidth
        self.gap = gap
        self.margin = margin
        let around = margin + (trailingMargin ?? margin)
        height = rows * cellHeight + (rows - 1) * gap + around
        width = columns * cellWidth + (columns - 1) * gap + around
        pixels = [UInt8](repeating: background, count: channels * height * width)
    }

    /// Copies one planar image (channels * cellHeight * cellWidth bytes) into its cell.
    public mutating func place(_ image: some RandomAccessCollection<UInt8>, row: Int, column: Int) {
        precondition(image.count == channels * cellHeight * cellWidth,
                     "ImageGrid: \(image.count) bytes for a \(channels)x\(cellHeight)x\(cellWidth) cell")
        let top = margin + row * (cellHeight + gap), left = margin + column * (cellWidth + gap)
        var from = image.startIndex
        for c in 0..<channels {
            for y in 0..<cellHeight {
                let to = image.index(from, offsetBy: cellWidth)
                let dst = (c * height + top + y) * width + left
                pixels.replaceSubrange(dst..<(dst + cellWidth), with: image[from..<to])
                from = to
            }
        }
    }

    /// The picture as a PNG file's bytes.
    public var png: [UInt8] { PNG.encode(pixels: pixels, width: width, height: height, channels: channels) }
}
