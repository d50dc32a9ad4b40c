namespace MicroTvm.Compiler.Planning;

/// <summary>One block of memory to place: live from step <see cref="FirstStep"/> to <see cref="LastStep"/> inclusive,
/// at an offset that is a multiple of <see cref="Alignment"/> and of the arena's alignment.</summary>
public sealed record BufferRequest(int Id, long Bytes, int FirstStep, int LastStep, int Alignment = 1)
{
    public bool OverlapsInTime(BufferRequest other) => FirstStep <= other.LastStep && other.FirstStep <= LastStep;
}

/// <summary>Offsets chosen for a set of <see cref="BufferRequest"/>s.</summary>
public sealed record PackingResult(IReadOnlyDictionary<int, long> Offsets, long TotalBytes, string Strategy, long GreedyBySizeBytes, long LowerBoundBytes);

/// <summary>
/// Packs buffers with known lifetimes into one arena (dynamic storage allocation with static lifetimes, which is
/// NP-hard in general). Runs several placement orders — the classic greedy-by-size one among them — each with
/// first-fit and best-fit gap choice, then a bounded, seeded local search over the best order; keeps the smallest
/// arena. Stops early when a plan reaches the lower bound (the largest sum of sizes live at one step).
/// Deterministic: the same requests give the same offsets.
/// </summary>
public static class BufferPacker
{
    public static PackingResult Pack(IReadOnlyList<BufferRequest> requests, int alignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a power of two");
        if (requests.Any(r => r.Alignment <= 0 || (r.Alignment & (r.Alignment - 1)) != 0))
            throw new ArgumentOutOfRangeException(nameof(requests), "every buffer's alignment must be a power of two");
        var items = requests.Select(r => r with { Alignment = Math.Max(r.Alignment, alignment) })
            .Select(r => r with { Bytes = AlignUp(r.Bytes, r.Alignment) }).ToArray();
        long lowerBound = LowerBound(items);
        if (items.Length == 0)
            return new PackingResult(new Dictionary<int, long>(), 0, "empty", 0, 0);

        var orders = new List<(string Name, int[] Order)>
        {
            ("greedy-by-size", Sorted(items, (a, b) => Compare(b.Bytes, a.Bytes, a.FirstStep, b.FirstStep))),
            ("longest-lifetime", Sorted(items, (a, b) => Compare(b.LastStep - b.FirstStep, a.LastStep - a.FirstStep, b.Bytes, a.Bytes))),
            ("largest-area", Sorted(items, (a, b) => Compare(b.Bytes * (b.LastStep - b.FirstStep + 1), a.Bytes * (a.LastStep - a.FirstStep + 1), a.FirstStep, b.FirstStep))),
            ("earliest-first", Sorted(items, (a, b) => Compare(a.FirstStep, b.FirstStep, b.Bytes, a.Bytes))),
            ("peak-pressure", ByPeakPressure(items)),
        };

        long greedyBySize = Place(items, orders[0].Order, bestFit: false).Total;
        (long Total, long[] Offsets, string Name, int[] Order) best = (long.MaxValue, Array.Empty<long>(), "", Array.Empty<int>());
        foreach (var (name, order) in orders)
        {
            foreach (bool bestFit in new[] { false, true })
            {
                var (total, offsets) = Place(items, order, bestFit);
                if (total < best.Total) best = (total, offsets, name + (bestFit ? "/best-fit" : "/first-fit"), order);
                if (best.Total == lowerBound) break;
            }
        }

        if (best.Total > lowerBound) best = LocalSearch(items, best, lowerBound);

        var result = new Dictionary<int, long>();
        for (int i = 0; i < items.Length; i++) result[items[i].Id] = best.Offsets[i];
        return new PackingResult(result, best.Total, best.Name, greedyBySize, lowerBound);
    }

    /// <summary>The largest total (aligned) size of buffers live at the same step: no packing can do better.</summary>
    public static long LowerBound(IReadOnlyList<BufferRequest> items)
    {
        if (items.Count == 0) return 0;
        int last = items.Max(i => i.LastStep);
        int first = items.Min(i => i.FirstStep);
        long peak = 0;
        for (int step = first; step <= last; step++)
            peak = Math.Max(peak, items.Where(i => i.FirstStep <= step && step <= i.LastStep).Sum(i => i.Bytes));
        return peak;
    }

    public static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static int Compare(long a1, long b1, long a2, long b2) => a1 != b1 ? a1.CompareTo(b1) : a2.CompareTo(b2);

    private static int[] Sorted(BufferRequest[] items, Comparison<BufferRequest> comparison)
    {
        var order = Enumerable.Range(0, items.Length).ToArray();
        // Stable: ties keep request order, so the result is deterministic.
        return order.OrderBy(i => i, Comparer<int>.Create((x, y) =>
        {
            int c = comparison(items[x], items[y]);
            return c != 0 ? c : x.CompareTo(y);
        })).ToArray();
    }

    /// <summary>Buffers live at the most crowded step first (largest first), then the rest by size.</summary>
    private static int[] ByPeakPressure(BufferRequest[] items)
    {
        int first = items.Min(i => i.FirstStep), last = items.Max(i => i.LastStep);
        var pressure = new long[last - first + 1];
        foreach (var item in items)
            for (int s = item.FirstStep; s <= item.LastStep; s++) pressure[s - first] += item.Bytes;
        var score = items.Select(item => Enumerable.Range(item.FirstStep, item.LastStep - item.FirstStep + 1).Max(s => pressure[s - first])).ToArray();
        return Sorted(items, (a, b) => 0).OrderBy(i => i, Comparer<int>.Create((x, y) =>
        {
            int c = score[y].CompareTo(score[x]);
            if (c == 0) c = items[y].Bytes.CompareTo(items[x].Bytes);
            return c != 0 ? c : x.CompareTo(y);
        })).ToArray();
    }

    /// <summary>Places buffers in <paramref name="order"/>, each at the lowest (first-fit) or tightest (best-fit)
    /// gap among already placed buffers whose lifetimes overlap its own.</summary>
    private static (long Total, long[] Offsets) Place(BufferRequest[] items, int[] order, bool bestFit)
    {
        var offsets = new long[items.Length];
        var placed = new List<int>(items.Length);
        long total = 0;
        var busy = new List<(long Start, long End)>();
        foreach (int i in order)
        {
            var item = items[i];
            busy.Clear();
            foreach (int j in placed)
                if (items[j].OverlapsInTime(item)) busy.Add((offsets[j], offsets[j] + items[j].Bytes));
            busy.Sort((a, b) => a.Start.CompareTo(b.Start));

            long chosen = -1, chosenGap = long.MaxValue, cursor = 0;
            foreach (var (start, end) in busy)
            {
                long at = AlignUp(cursor, item.Alignment);
                long gap = start - at;
                if (gap >= item.Bytes && (chosen < 0 || (bestFit && gap < chosenGap)))
                {
                    chosen = at;
                    chosenGap = gap;
                    if (!bestFit) break;
                }

                cursor = Math.Max(cursor, end);
            }

            if (chosen < 0) chosen = AlignUp(cursor, item.Alignment);
            offsets[i] = chosen;
            placed.Add(i);
            total = Math.Max(total, chosen + item.Bytes);
        }

        return (total, offsets);
    }

    /// <summary>Seeded hill climbing over the placement order: move one buffer earlier, keep the change when the arena
    /// does not grow. Bounded so large models stay fast.</summary>
    private static (long, long[], string, int[]) LocalSearch(BufferRequest[] items, (long Total, long[] Offsets, string Name, int[] Order) best, long lowerBound)
    {
        if (items.Length < 3) return best;
        var random = new Random(20261121);
        var order = (int[])best.Order.Clone();
        int iterations = Math.Min(4000, 200_000 / items.Length);
        bool improved = false;
        for (int k = 0; k < iterations && best.Total > lowerBound; k++)
        {
            var candidate = (int[])order.Clone();
            int from = random.Next(candidate.Length), to = random.Next(candidate.Length);
            if (from == to) continue;
            int moved = candidate[from];
            if (from < to) Array.Copy(candidate, from + 1, candidate, from, to - from);
            else Array.Copy(candidate, to, candidate, to + 1, from - to);
            candidate[to] = moved;
            foreach (bool bestFit in new[] { false, true })
            {
                var (total, offsets) = Place(items, candidate, bestFit);
                if (total <= best.Total)
                {
                    if (total < best.Total) improved = true;
                    best = (total, offsets, best.Name, candidate);
                    order = candidate;
                    break;
                }
            }
        }

        return improved ? (best.Total, best.Offsets, best.Name + "+local-search", best.Order) : best;
    }
}
