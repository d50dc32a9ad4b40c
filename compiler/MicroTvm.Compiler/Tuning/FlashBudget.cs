namespace MicroTvm.Compiler.Tuning;

/// <summary>One measured schedule of a signature: its time per use and its weights' bytes per use.</summary>
public sealed record BudgetOption(double Cost, long Bytes);

/// <summary>
/// The fastest choice of one schedule per operator signature whose weights fit a budget (issue 11: the weight layout is
/// one more knob, optimised under the board's flash). Each signature has its options (time and weight bytes per use) and
/// a number of uses; the total is Σ uses × cost under Σ uses × bytes ≤ budget. Exhaustive while the combinations are
/// few (every shared model today), else greedy: start from each signature's fastest option and, while over the budget,
/// take the switch that loses the least time per byte saved.
/// </summary>
public static class FlashBudget
{
    public const long ExhaustiveLimit = 1_000_000;

    /// <summary>The chosen option's index per signature, or null when even the smallest options do not fit.</summary>
    public static int[]? Choose(IReadOnlyList<IReadOnlyList<BudgetOption>> options, IReadOnlyList<int> uses, long budget, long exhaustiveLimit = ExhaustiveLimit)
    {
        if (options.Select((o, t) => uses[t] * o.Min(x => x.Bytes)).Sum() > budget) return null;
        double combinations = options.Aggregate(1.0, (n, o) => n * o.Count);
        return combinations <= exhaustiveLimit ? Exhaustive(options, uses, budget) : Greedy(options, uses, budget);
    }

    /// <summary>
    /// The weights budget on a board with <paramref name="flash"/> bytes of flash (null: unknown) of which the project's
    /// application takes <paramref name="reservedFlash"/> beside the model's weights (its code, data, runtime, other
    /// models): the smaller of the given budget and the flash less the reserve. The given budget (null: none) where
    /// nothing is reserved or the flash is unknown.
    /// </summary>
    public static long? WeightsBudget(long? given, long? flash, long reservedFlash) =>
        reservedFlash > 0 && flash is long f ? Math.Min(given ?? long.MaxValue, f - reservedFlash) : given;

    private static int[] Exhaustive(IReadOnlyList<IReadOnlyList<BudgetOption>> options, IReadOnlyList<int> uses, long budget)
    {
        var current = new int[options.Count];
        int[] best = null!;
        double bestCost = double.MaxValue;
        void Visit(int t, double cost, long bytes)
        {
            if (bytes > budget || cost >= bestCost) return;
            if (t == options.Count)
            {
                (best, bestCost) = ((int[])current.Clone(), cost);
                return;
            }

            for (int i = 0; i < options[t].Count; i++)
            {
                current[t] = i;
                Visit(t + 1, cost + uses[t] * options[t][i].Cost, bytes + uses[t] * options[t][i].Bytes);
            }
        }

        Visit(0, 0, 0);
        return best;
    }

    private static int[] Greedy(IReadOnlyList<IReadOnlyList<BudgetOption>> options, IReadOnlyList<int> uses, long budget)
    {
        var chosen = options.Select(o => Enumerable.Range(0, o.Count).OrderBy(i => o[i].Cost).ThenBy(i => o[i].Bytes).First()).ToArray();
        long Bytes() => chosen.Select((i, t) => uses[t] * options[t][i].Bytes).Sum();
        while (Bytes() > budget)
        {
            var (t, i) = Enumerable.Range(0, options.Count)
                .SelectMany(t => Enumerable.Range(0, options[t].Count).Where(i => options[t][i].Bytes < options[t][chosen[t]].Bytes).Select(i => (t, i)))
                .OrderBy(s => (options[s.t][s.i].Cost - options[s.t][chosen[s.t]].Cost) / (options[s.t][chosen[s.t]].Bytes - options[s.t][s.i].Bytes))
                .First();
            chosen[t] = i;
        }

        return chosen;
    }
}
