extension StringProtocol {
    /// The text without leading and trailing whitespace; line breaks count as whitespace unless `newlines`
    /// is false. FoundationEssentials has no `trimmingCharacters(in:)`.
    func trimmingWhitespace(newlines: Bool = true) -> String {
        let isTrimmed: (Character) -> Bool = { $0.isWhitespace && (newlines || !$0.isNewline) }
        guard let first = firstIndex(where: { !isTrimmed($0) }), let last = lastIndex(where: { !isTrimmed($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
