/// Where a contact sheet with one row per class puts each row: up to `maxRowsPerBlock` rows in
/// one column, past that the rows wrap into equal blocks side by side (class order runs down each
/// block, then on to the next) with one empty cell between blocks. 100 CIFAR-100 classes make
/// four blocks of 25 rows, a picture that fits a screen, instead of one column 3,400 pixels tall;
/// 30 classes make two blocks of 15, not one of 25 and one of 5. `synth preview` and the GAN
/// commands' `--preview` grids lay out their rows this way.
public struct ClassRowLayout: Sendable, Equatable {
    public static let maxRowsPerBlock = 25

    public let rows: Int
    public let columnsPerRow: Int
    public let blocks: Int
    /// Rows per block (the last block may hold fewer).
    public let blockRows: Int

    public init(rows: Int, columnsPerRow: Int) {
        precondition(rows > 0 && columnsPerRow > 0, "ClassRowLayout: \(rows) rows of \(columnsPerRow)")
        self.rows = rows
        self.columnsPerRow = columnsPerRow
        blocks = (rows + Self.maxRowsPerBlock - 1) / Self.maxRowsPerBlock
        blockRows = (rows + blocks - 1) / blocks
    }

    /// The grid's size in cells, the empty columns between blocks included.
    public var gridRows: Int { blockRows }
    public var gridColumns: Int { blocks * columnsPerRow + blocks - 1 }

    /// The grid cell of column `column` of class row `row`.
    public func cell(row: Int, column: Int) -> (row: Int, column: Int) {
        (row % blockRows, row / blockRows * (columnsPerRow + 1) + column)
    }
}
