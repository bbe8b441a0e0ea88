/// A load's word counts (`WordCounts`, one per posting), kept until the average field lengths
/// are known and the postings can be weighed — at two bytes a posting instead of four.
///
/// Each distinct pattern of counts gets a number. A real catalog has a few thousand patterns
/// (most words are in one or two fields, a few times), so the numbers fit in two bytes; past
/// `limit` patterns, a posting's counts are kept aside by word and position, so the weights
/// stay exact whatever the text. It halves what the counts take while the index loads (with
/// the load's bitsets, the 1M demo catalog's rebuild peak went from 744 to under 600 MB).
struct LoadingCounts {
    static let escape = UInt16.max
    private let limit: Int
    private var perTerm: [[UInt16]] = []
    private var patterns: [UInt32] = []
    private var patternIDs: [UInt32: UInt16] = [:]
    private var escaped: [UInt64: UInt32] = [:]

    init(limit: Int = Int(escape)) {
        self.limit = min(limit, Int(Self.escape))
    }

    mutating func addTerm() { perTerm.append([]) }

    mutating func append(_ counts: WordCounts, term: Int) {
        let id: UInt16
        if let known = patternIDs[counts.packed] {
            id = known
        } else if patterns.count < limit {
            id = UInt16(patterns.count)
            patterns.append(counts.packed)
            patternIDs[counts.packed] = id
        } else {
            id = Self.escape
            escaped[Self.key(term, perTerm[term].count)] = counts.packed
        }
        perTerm[term].append(id)
    }

    var terms: Range<Int> { perTerm.indices }

    /// One word's counts, in posting order; its list is let go.
    mutating func take(term: Int) -> [UInt16] {
        let ids = perTerm[term]
        perTerm[term] = []
        return ids
    }

    /// The counts `take` gave as `id` at `position` of `term`'s postings.
    func counts(_ id: UInt16, term: Int, position: Int) -> WordCounts {
        WordCounts(packed: id == Self.escape ? escaped[Self.key(term, position)]! : patterns[Int(id)])
    }

    private static func key(_ term: Int, _ position: Int) -> UInt64 { UInt64(term) << 32 | UInt64(position) }
}
