/// Comparisons of secrets (signatures, CSRF tokens) whose duration reveals nothing about where two
/// values first differ, so an attacker cannot guess a signature byte by byte from response times.
public enum ConstantTime {
    /// Equal byte strings; the time depends only on their lengths, which are public.
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    public static func equal(_ a: String, _ b: String) -> Bool { equal(Array(a.utf8), Array(b.utf8)) }
}
