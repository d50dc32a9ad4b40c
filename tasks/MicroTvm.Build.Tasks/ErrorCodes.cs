namespace MicroTvm.Build.Tasks
{
    /// <summary>Codes of the errors the SDK reports; each is documented once in docs/errors.md.</summary>
    internal static class ErrorCodes
    {
        /// <summary>Help keyword of every SDK diagnostic; the codes are documented in docs/errors.md.</summary>
        public const string HelpLink = "MicroTvm.Sdk.Errors";

        public const string SourceNotFound = "MTVM0002";
        public const string ModelNotFound = "MTVM0101";
        public const string ModelTargetMismatch = "MTVM0102";
        public const string InvalidModelName = "MTVM0103";
        public const string DuplicateModelName = "MTVM0104";
        public const string ModelUnsupportedExecutor = "MTVM0105";
        public const string ModelCompilerUnavailable = "MTVM0106";
        public const string InvalidModelIoInWorkspace = "MTVM0107";
        public const string ModelNameHidesHeader = "MTVM0120";
        public const string InvalidCustomOperatorName = "MTVM0150";
        public const string InvalidCustomOperatorScratch = "MTVM0151";
        public const string DuplicateCustomOperator = "MTVM0152";
        public const string BuildLockTimeout = "MTVM0121";
        public const string ToolNotFound = "MTVM3001";
        public const string CompilerError = "MTVM3101";
        public const string CompilerWarning = "MTVM3102";
        public const string CompilerFailed = "MTVM3103";
        public const string DamagedFirmware = "MTVM3110";
        public const string InvalidWeightLayout = "MTVM3190";
        public const string FlashOverflowCompactWeights = "MTVM3191";
        public const string FlashOverflowWidenedWeights = "MTVM3192";
        public const string RegionOverflow = "MTVM3201";
        public const string LinkerError = "MTVM3202";
        public const string ObjcopyFailed = "MTVM3203";
        public const string FirmwareExitCode = "MTVM4001";
        public const string FirmwareFault = "MTVM4002";
        public const string FirmwareTimeout = "MTVM4003";
        public const string EmulatorFailed = "MTVM4004";
        public const string FlashFailed = "MTVM4006";
        public const string FlashPathUnusable = "MTVM4010";
        public const string SemihostingRefused = "MTVM4012";
        public const string SemihostingUnconfined = "MTVM4013";
        public const string EmulatorKilled = "MTVM4050";
        public const string DebugPortUnusable = "MTVM4051";
        public const string DebuggerFailed = "MTVM4052";
        public const string NoEmulatorConsole = "MTVM4053";
        public const string MonitorFailed = "MTVM4054";
    }
}
