/// Cuts a search snippet out of a text's UTF-8 (see `SearchText.snippet`).
///
/// It runs for every hit of a search (a hundred on a page of `limit=100`), so it reads the text
/// once and only as far as the excerpt needs, compares an ASCII word with the query byte by byte
/// without building a string, and folds (accents, case) only words with other letters.
struct SnippetCutter {
    /// A run of word scalars (letters, digits) or of other scalars, as byte offsets.
    struct Token {
        var range: Range<Int>
        var isWord: Bool
        var isASCII: Bool
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let words: Set<String>
    private let wordBytes: [[UInt8]]
    private let prefix: String?
    private let prefixBytes: [UInt8]?
    private var position = 0
    private var scanned = 0
    /// As `SearchText.snippet` promises: a long text is read no further than this.
    static let scalarLimit = 4000

    init(_ bytes: UnsafeBufferPointer<UInt8>, words: Set<String>, prefix: String?) {
        self.bytes = bytes
        self.words = words
        wordBytes = words.map { Array($0.utf8) }
        self.prefix = prefix
        prefixBytes = prefix.map { Array($0.utf8) }
    }

    /// Up to `before` words before the first match and `after` words after it, or nil without one.
    mutating func snippet(before: Int, after: Int) -> String? {
        // Read up to the first match, keeping the tokens of the last `before` words before it.
        var window: [Token] = []
        var wordsInWindow = 0, cutAtStart = false, found = false
        while let token = nextToken() {
            window.append(token)
            if matches(token) {
                found = true
                break
            }
            if token.isWord {
                wordsInWindow += 1
                if wordsInWindow > before {
                    window.removeFirst(window.firstIndex(where: \.isWord)! + 1)
                    wordsInWindow -= 1
                    cutAtStart = true
                }
            }
        }
        guard found else { return nil }
        // A cut excerpt starts with a word; from the text's start it keeps the punctuation before it.
        if cutAtStart { window.removeFirst(window.firstIndex(where: \.isWord)!) }
        // Then `after` more words; the text's last word also keeps the punctuation after it.
        var wordsAfter = 0, cutAtEnd = false
        var gap: Token?
        while let token = nextToken() {
            guard token.isWord else {
                gap = token
                continue
            }
            if wordsAfter == after {
                cutAtEnd = true
                break
            }
            if let gap { window.append(gap) }
            gap = nil
            window.append(token)
            wordsAfter += 1
        }
        if !cutAtEnd, let gap { window.append(gap) }
        if position < bytes.count { cutAtEnd = true }  // stopped at the scalar limit
        var html: [UInt8] = []
        html.reserveCapacity(bytes.count < 512 ? bytes.count + 64 : 512)
        if cutAtStart { html += Self.ellipsis }
        for token in window {
            let marked = matches(token)
            if marked { html += Self.markOpen }
            Self.appendEscaped(bytes[token.range], to: &html)
            if marked { html += Self.markClose }
        }
        if cutAtEnd { html += Self.ellipsis }
        return String(decoding: html, as: UTF8.self)
    }

    /// The next token, or nil at the end of the text or at the scalar limit.
    private mutating func nextToken() -> Token? {
        guard position < bytes.count, scanned < Self.scalarLimit else { return nil }
        let start = position
        let (first, firstLength) = scalar(at: position)
        let kind = Self.isWord(first)
        var ascii = first.isASCII
        position += firstLength
        scanned += 1
        while position < bytes.count && scanned < Self.scalarLimit {
            let byte = bytes[position]
            if byte < 0x80 {  // most text: no decoding
                guard Self.asciiWord[Int(byte)] == kind else { break }
                position += 1
                scanned += 1
                continue
            }
            let (next, length) = scalar(at: position)
            guard Self.isWord(next) == kind else { break }
            if length > 1 { ascii = false }
            position += length
            scanned += 1
        }
        return Token(range: start..<position, isWord: kind, isASCII: ascii)
    }

    /// The scalar starting at `offset` and its length in bytes (a Swift string is valid UTF-8).
    @inline(__always) private func scalar(at offset: Int) -> (Unicode.Scalar, Int) {
        let lead = bytes[offset]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        var value = UInt32(lead) & (0x7F >> length)
        for next in 1..<length { value = value << 6 | UInt32(bytes[offset + next] & 0x3F) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    @inline(__always) private static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? asciiWord[Int(scalar.value)] : scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    /// Which ASCII bytes are word scalars: digits and letters.
    private static let asciiWord: [Bool] = (0..<128).map { byte in
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }

    private func matches(_ token: Token) -> Bool {
        guard token.isWord else { return false }
        guard token.isASCII else { return matchesFolded(token) }
        let count = token.range.count
        for word in wordBytes where word.count == count && equalsLowercased(word, from: token.range.lowerBound) {
            return true
        }
        if let prefixBytes, count >= prefixBytes.count, equalsLowercased(prefixBytes, from: token.range.lowerBound) {
            return true
        }
        return false
    }

    /// Whether the ASCII bytes at `offset`, lower-cased, begin with `word`.
    @inline(__always) private func equalsLowercased(_ word: [UInt8], from offset: Int) -> Bool {
        for index in word.indices {
            var byte = bytes[offset + index]
            if byte >= 65 && byte <= 90 { byte += 32 }
            if byte != word[index] { return false }
        }
        return true
    }

    /// A word with other letters, folded as the index folds it ("Crème" is "creme").
    private func matchesFolded(_ token: Token) -> Bool {
        var folded = ""
        SearchText.words(String(decoding: UnsafeBufferPointer(rebasing: bytes[token.range]), as: UTF8.self)) { folded += $0 }
        return words.contains(folded) || (prefix.map { folded.hasPrefix($0) } ?? false)
    }

    private static let ellipsis = Array("…".utf8)
    private static let markOpen = Array("<mark>".utf8)
    private static let markClose = Array("</mark>".utf8)

    /// Escaped for HTML, on one line: "\r\n", "\n" and "\r" become a space.
    static func appendEscaped(_ text: Slice<UnsafeBufferPointer<UInt8>>, to html: inout [UInt8]) {
        var afterReturn = false
        for byte in text {
            defer { afterReturn = byte == 13 }
            switch byte {
            case UInt8(ascii: "&"): html.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): html.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): html.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): html.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): html.append(contentsOf: "&#39;".utf8)
            case 10: if !afterReturn { html.append(32) }
            case 13: html.append(32)
            default: html.append(byte)
            }
        }
    }
}
