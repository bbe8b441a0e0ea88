import SoukDatabase

/// A page of a list newest first (a seller's products, the admin's reviews, the library, a
/// product's keys) read from a position past a row shown before (`?older=<id>`, `?newer=<id>`),
/// one row more than it shows: which rows it shows, and whether there are older or newer ones.
struct PositionedPage<Item> {
    let items: [Item]
    let hasOlder: Bool
    let hasNewer: Bool

    /// `found`: up to `size + 1` rows read from `applied`, the position the read used (nil: the newest).
    init(_ found: [Item], from applied: AppDatabase.ListPosition?, size: Int) {
        let morePastPosition = found.count > size
        switch applied {
        case .newerThan?:
            items = Array(found.suffix(size))
            (hasOlder, hasNewer) = (true, morePastPosition)
        case .olderThan?:
            items = Array(found.prefix(size))
            (hasOlder, hasNewer) = (morePastPosition, true)
        case nil:
            items = Array(found.prefix(size))
            (hasOlder, hasNewer) = (morePastPosition, false)
        }
    }
}

extension AppDatabase.ListPosition {
    /// The position an address asks for: `older` or `newer` (a row's id), else the newest (nil).
    static func asked(older: String?, newer: String?) -> AppDatabase.ListPosition? {
        if let id = older, !id.isEmpty { return .olderThan(id: id) }
        if let id = newer, !id.isEmpty { return .newerThan(id: id) }
        return nil
    }
}
