import Datasets
import Testing

@Suite struct ImageGridTests {
    /// A 2-channel 1x2 cell image whose bytes name their channel and column: c * 10 + x + 1.
    let cell: [UInt8] = [1, 2, 11, 12]

    @Test func cellsSitAtMarginPlusPitchOnTheBackground() {
        var grid = ImageGrid(rows: 2, columns: 2, channels: 2, cellHeight: 1, cellWidth: 2, gap: 1, margin: 1, background: 9)
        // 2 cells + 1 gap + 2 margins each way.
        #expect(grid.height == 2 + 1 + 2 && grid.width == 4 + 1 + 2)
        grid.place(cell, row: 1, column: 1)
        let w = grid.width, h = grid.height
        // Row 1 starts at 1 + 1 * (1 + 1) = 3, column 1 at 1 + 1 * (2 + 1) = 4.
        for c in 0..<2 {
            for y in 0..<h {
                for x in 0..<w {
                    let expected: UInt8 = y == 3 && (4...5).contains(x) ? UInt8(c * 10 + x - 4 + 1) : 9
                    #expect(grid.pixels[(c * h + y) * w + x] == expected, "channel \(c) at (\(y), \(x))")
                }
            }
        }
    }

    @Test func trailingMarginPadsOnlyAfterTheLastCell() {
        var grid = ImageGrid(rows: 1, columns: 2, channels: 2, cellHeight: 1, cellWidth: 2, gap: 1, trailingMargin: 1, background: 0)
        #expect(grid.height == 2 && grid.width == 6)
        grid.place(cell[...], row: 0, column: 0)
        #expect(Array(grid.pixels[0..<6]) == [1, 2, 0, 0, 0, 0] && Array(grid.pixels[12..<18]) == [11, 12, 0, 0, 0, 0])
    }
}
