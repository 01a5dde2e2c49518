/// "1 shard", "4 shards", "1 class", "2 classes": a count with its noun in agreement, for every
/// message that prints one. `plural` defaults to the noun + "s" ("es" after s, x, sh, ch).
public func counted(_ n: Int, _ noun: String, plural: String? = nil) -> String {
    if n == 1 { return "1 \(noun)" }
    if let plural { return "\(n) \(plural)" }
    let es = ["s", "x", "sh", "ch"].contains { noun.hasSuffix($0) }
    return "\(n) \(noun)\(es ? "es" : "s")"
}
