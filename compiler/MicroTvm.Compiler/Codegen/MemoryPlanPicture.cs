using System.Globalization;
using System.Text;

namespace MicroTvm.Compiler.Codegen;

/// <summary>
/// The memory plan of <c>&lt;name&gt;.json</c> as a picture, <c>&lt;name&gt;.plan.svg</c>: each tensor in the workspace is a
/// box spanning the operator steps it is live (x) and the workspace bytes it occupies (y); kernel scratch is a grey box
/// for its one step. Each box carries its figures as <c>data-</c> attributes and a tooltip, so tools and tests can read
/// the picture as they read the JSON.
/// </summary>
public static class MemoryPlanPicture
{
    private const int Left = 90, Top = 40, Bottom = 50, Right = 20, PlotHeight = 480;

    public static string FileName(string modelName) => modelName + ".plan.svg";

    public static string Render(ModelMetadata model)
    {
        var c = CultureInfo.InvariantCulture;
        int steps = Math.Max(1, model.Operators.Count);
        double stepWidth = Math.Clamp(900.0 / steps, 4, 60);
        double plotWidth = stepWidth * steps;
        long workspace = Math.Max(1, model.WorkspaceBytes);
        double X(int step) => Left + stepWidth * step;
        double Y(long offset) => Top + PlotHeight * (double)offset / workspace;
        string F(double v) => v.ToString("0.##", c);

        var svg = new StringBuilder();
        svg.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(Left + plotWidth + Right)}\" height=\"{Top + PlotHeight + Bottom}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(c, $"<title>{Escape(model.Name)}: memory plan, workspace {model.WorkspaceBytes:N0} bytes, {model.Operators.Count} operators</title>\n");
        svg.Append(c, $"<text x=\"{Left}\" y=\"20\" font-size=\"13\">{Escape(model.Name)} ({Escape(model.Target)}): workspace {model.WorkspaceBytes:N0} bytes over {model.Operators.Count} operator steps");
        svg.Append(model.IoInWorkspace ? ", inputs and outputs inside" : ", inputs and outputs in the caller's buffers (not shown)");
        svg.Append("</text>\n");
        svg.Append(c, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{F(plotWidth)}\" height=\"{PlotHeight}\" fill=\"#f8f8f8\" stroke=\"#888\"/>\n");

        foreach (var tensor in model.MemoryPlan.Where(t => t.Offset is not null && t.Bytes > 0))
        {
            long offset = tensor.Offset!.Value;
            int first = Math.Max(0, tensor.FirstStep);
            int last = Math.Min(steps - 1, tensor.LastStep ?? steps - 1);
            if (last < first) last = first;
            string fill = tensor.Storage == "state" ? "#e8a33d" : Colour(tensor.Tensor);
            string tip = string.Format(c, "tensor {0} '{1}' ({2} {3}): {4:N0} bytes at offset {5:N0}, steps {6}..{7}{8}",
                tensor.Tensor, tensor.Name, tensor.Type, string.Join("x", tensor.Shape), tensor.Bytes, offset,
                tensor.FirstStep, tensor.LastStep?.ToString(c) ?? "end", tensor.Storage == "state" ? ", state kept between runs" : "");
            svg.Append(c, $"<rect class=\"tensor\" data-tensor=\"{tensor.Tensor}\" data-storage=\"{tensor.Storage}\" data-offset=\"{offset}\" data-bytes=\"{tensor.Bytes}\" data-first-step=\"{first}\" data-last-step=\"{last}\"");
            svg.Append(c, $" x=\"{F(X(first))}\" y=\"{F(Y(offset))}\" width=\"{F(stepWidth * (last - first + 1))}\" height=\"{F(Math.Max(0.5, Y(offset + tensor.Bytes) - Y(offset)))}\"");
            svg.Append(c, $" fill=\"{fill}\" fill-opacity=\"0.75\" stroke=\"#333\" stroke-width=\"0.5\"><title>{Escape(tip)}</title></rect>\n");
        }

        foreach (var op in model.Operators.Where(o => o.ScratchBytes is > 0 && o.ScratchOffset is not null))
        {
            long offset = op.ScratchOffset!.Value;
            string tip = string.Format(c, "scratch of operator {0} ({1}): {2:N0} bytes at offset {3:N0}", op.Step, op.Kind, op.ScratchBytes, offset);
            svg.Append(c, $"<rect class=\"scratch\" data-step=\"{op.Step}\" data-offset=\"{offset}\" data-bytes=\"{op.ScratchBytes}\"");
            svg.Append(c, $" x=\"{F(X(op.Step))}\" y=\"{F(Y(offset))}\" width=\"{F(stepWidth)}\" height=\"{F(Math.Max(0.5, Y(offset + op.ScratchBytes!.Value) - Y(offset)))}\"");
            svg.Append(c, $" fill=\"#999\" fill-opacity=\"0.6\" stroke=\"#333\" stroke-width=\"0.5\" stroke-dasharray=\"2,2\"><title>{Escape(tip)}</title></rect>\n");
        }

        // Axes: offsets (y) at 0, a quarter, ... the whole workspace; steps (x) at about ten places.
        for (int k = 0; k <= 4; k++)
        {
            long offset = workspace * k / 4;
            svg.Append(c, $"<text x=\"{Left - 6}\" y=\"{F(Y(offset) + 4)}\" text-anchor=\"end\">{offset:N0}</text>\n");
        }
        int every = Math.Max(1, (int)Math.Ceiling(steps / 10.0));
        for (int step = 0; step < steps; step += every)
        {
            string kind = step < model.Operators.Count ? model.Operators[step].Kind : "";
            svg.Append(c, $"<text x=\"{F(X(step) + stepWidth / 2)}\" y=\"{Top + PlotHeight + 14}\" text-anchor=\"middle\">{step}<title>{Escape(kind)}</title></text>\n");
        }
        svg.Append(c, $"<text x=\"{F(Left + plotWidth / 2)}\" y=\"{Top + PlotHeight + 36}\" text-anchor=\"middle\">operator step</text>\n");
        svg.Append(c, $"<text x=\"16\" y=\"{Top + PlotHeight / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {Top + PlotHeight / 2})\">workspace offset (bytes)</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>A stable colour per tensor id (golden-angle hues), so neighbouring boxes differ.</summary>
    private static string Colour(int tensor)
    {
        double hue = tensor * 137.508 % 360;
        return string.Create(CultureInfo.InvariantCulture, $"hsl({hue:0},60%,65%)");
    }

    /// <summary>Tensor names come from the model file: untrusted text, escaped for XML.</summary>
    private static string Escape(string text)
    {
        var b = new StringBuilder(text.Length);
        foreach (char ch in text)
        {
            switch (ch)
            {
                case '<': b.Append("&lt;"); break;
                case '>': b.Append("&gt;"); break;
                case '&': b.Append("&amp;"); break;
                case '"': b.Append("&quot;"); break;
                case '\'': b.Append("&apos;"); break;
                default:
                    // XML 1.0 allows no control characters but tab and newlines.
                    b.Append(ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' || ch is '\uFFFE' or '\uFFFF' || char.IsSurrogate(ch) ? '?' : ch);
                    break;
            }
        }
        return b.ToString();
    }
}
