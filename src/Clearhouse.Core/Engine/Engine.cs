using Clearhouse.Core.Accounts;
using Clearhouse.Core.Clearing;
using Clearhouse.Core.Instruments;
using Clearhouse.Core.Margin;
using Clearhouse.Core.Matching;
using Clearhouse.Core.Numerics;
using Clearhouse.Core.Oracles;

namespace Clearhouse.Core.Engine;

/// <summary>
/// The venue's state machine: <see cref="Apply"/> takes one stamped command and either applies it
/// in full, emitting events, or rejects it with a <see cref="RejectReason"/> and changes nothing.
/// Single-threaded by design (one sequencer thread drives it). Every handler validates
/// everything before its first change, which is what makes "rejections change nothing" hold.
/// </summary>
public sealed partial class Engine : IMatchListener
{
    private const int MaxClientOrderIdLength = 64;

    private readonly EngineConfig config;
    private readonly List<Account> accounts = [];
    private readonly List<Instrument> instruments = [];
    private readonly Dictionary<string, Instrument> instrumentsByName = new(StringComparer.Ordinal);
    private readonly List<Underlying> underlyings = [];
    private readonly Dictionary<string, Underlying> underlyingsByName = new(StringComparer.Ordinal);
    private readonly Dictionary<long, int> instrumentOfOrder = new(1024);
    private readonly Dictionary<(int AccountId, string ClientOrderId), long> openClientOrderIds = [];
    private readonly EventBuffer events = new();
    private readonly List<Account> touchedAccounts = [];

    // Scratch within one liquidation step (never state): the isolated position whose collateral
    // must not go back to the cross balance until the step has charged its fee.
    private (int AccountId, int InstrumentId) heldIsolatedRelease;
    private readonly DirtySet dirtyAccounts = new();
    private readonly DirtySet dirtyInstruments = new();
    private readonly AccountMargin margin;
    private readonly OptionRiskGrid riskGrid;
    private readonly Dictionary<(DateOnly Expiry, long Strike, int Underlying), int> strikeGroups = [];
    private readonly Dictionary<DateOnly, Price> futureMarksByExpiry = [];
    private readonly List<Instrument> optionsToMark = [];
    private OptionRiskInput[] riskInputs = new OptionRiskInput[16];
    private bool[] riskPriceable = new bool[16];
    private double[] riskRows = [];
    private double[] riskBaseValues = [];
    private Price[] markCache = [];
    private long nextOrderId = 1;
    private long nextTradeId = 1;
    private int nextReporterId = 1;
    private Schedule schedule;

    // The command being applied.
    private long sequence;
    private long now;
    private Taker taker;

    public Engine(EngineConfig? config = null)
    {
        this.config = config ?? EngineConfig.Default;
        margin = new AccountMargin(instruments, underlyings, this.config.OptionMargin, this.config.PortfolioMargin);
        riskGrid = new OptionRiskGrid(this.config.PortfolioMargin);
    }

    public EngineConfig Config => config;

    public Ledger Ledger { get; } = new();

    public long LastSequence { get; private set; }

    public long LastTimestampMicros { get; private set; }

    /// <summary>The events of the last applied command; valid until the next call to <see cref="Apply"/>.</summary>
    public ReadOnlySpan<EngineEvent> Events => events.AsSpan();

    public IReadOnlyList<Instrument> Instruments => instruments;

    public IReadOnlyList<Underlying> Underlyings => underlyings;

    public int AccountCount => accounts.Count;

    public long NextOrderId => nextOrderId;

    public long NextTradeId => nextTradeId;

    public int NextReporterId => nextReporterId;

    /// <summary>The last boundary of each clock-driven task that has run (see <see cref="Tick"/>).</summary>
    public Schedule ClockSchedule => schedule;

    /// <summary>
    /// Applies one command. Pipeline per command: check the envelope (sequence, time), then the
    /// command's own handler: validate, check margin, accept, match, clear, rest or cancel, then
    /// post-trade upkeep. On rejection a single <see cref="EventKind.CommandRejected"/> event is emitted.
    /// </summary>
    public RejectReason Apply(Command command)
    {
        events.Clear();
        liquidations.Clear();
        fillAccounts.Clear();
        var reason = command.Sequence <= LastSequence ? RejectReason.SequenceNotIncreasing
            : command.TimestampMicros < LastTimestampMicros ? RejectReason.TimestampWentBackwards
            : RejectReason.None;

        if (reason == RejectReason.None)
        {
            sequence = command.Sequence;
            now = command.TimestampMicros;
            reason = command switch
            {
                PlaceOrder c => Place(c),
                AmendOrder c => Amend(c),
                CancelOrder c => Cancel(c),
                CancelAllOrders c => CancelAll(c),
                SetIndexPrice c => SetIndex(c),
                Deposit c => ApplyDeposit(c),
                Withdraw c => ApplyWithdraw(c),
                CreateAccount => Open(),
                ListInstrument c => List(c),
                SubmitPriceReport c => SubmitReport(c),
                Tick => RunClock(),
                RegisterReporter c => Register(c),
                ConfigureOracle c => Configure(c),
                SetVolatilitySurface c => SetSurface(c),
                SetMarginMode c => ApplySetMarginMode(c),
                SetIsolatedMargin c => ApplySetIsolated(c),
                TransferIsolatedMargin c => ApplyTransferIsolated(c),
                DepositInsuranceFund c => ApplyDepositInsurance(c),
                SetInstrumentGuards c => ApplySetInstrumentGuards(c), // Engine.Guards.cs
                SetListingSchedule c => ApplySetListingSchedule(c), // Engine.Listing.cs
                _ => RejectReason.UnknownCommand,
            };
        }

        if (reason == RejectReason.None)
        {
            RunLiquidations(command);
            LastSequence = command.Sequence;
            LastTimestampMicros = command.TimestampMicros;
            return reason;
        }

        events.Clear();
        ref var e = ref events.Add(EventKind.CommandRejected, command.Sequence, command.TimestampMicros);
        e.Reason = reason;
        switch (command)
        {
            case PlaceOrder p:
                e.AccountId = p.AccountId;
                e.InstrumentId = p.InstrumentId;
                break;
            case AmendOrder a:
                e.AccountId = a.AccountId;
                e.OrderId = a.OrderId;
                break;
            case CancelOrder c:
                e.AccountId = c.AccountId;
                e.OrderId = c.OrderId;
                break;
        }

        return reason;
    }

    // ---------------------------------------------------------------- queries

    public bool TryGetAccount(int accountId, out Account account)
    {
        if ((uint)(accountId - 1) < (uint)accounts.Count)
        {
            account = accounts[accountId - 1];
            return true;
        }

        account = null!;
        return false;
    }

    public bool TryGetInstrument(int instrumentId, out Instrument instrument)
    {
        if ((uint)(instrumentId - 1) < (uint)instruments.Count)
        {
            instrument = instruments[instrumentId - 1];
            return true;
        }

        instrument = null!;
        return false;
    }

    public bool TryGetInstrument(string name, out Instrument instrument) => instrumentsByName.TryGetValue(name, out instrument!);

    public bool TryGetUnderlying(string name, out Underlying underlying) => underlyingsByName.TryGetValue(name, out underlying!);

    /// <summary>Finds an open order anywhere in the venue.</summary>
    public bool TryGetOpenOrder(long orderId, out RestingOrder order, out Instrument instrument)
    {
        if (instrumentOfOrder.TryGetValue(orderId, out int instrumentId)
            && TryGetInstrument(instrumentId, out instrument)
            && instrument.Book.TryGetOrder(orderId, out order))
        {
            return true;
        }

        order = default;
        instrument = null!;
        return false;
    }

    /// <summary>
    /// An account's open orders, by instrument id and then in book priority order; all of them, or
    /// only those in <paramref name="instrumentId"/> when it is not zero. A query: it allocates.
    /// </summary>
    public IReadOnlyList<OpenOrder> GetOpenOrders(int accountId, int instrumentId = 0)
    {
        var result = new List<OpenOrder>();
        if (!TryGetAccount(accountId, out var account))
        {
            return result;
        }

        foreach (int id in account.ActiveInstruments)
        {
            if ((instrumentId != 0 && id != instrumentId) || account.GetPosition(id).OpenOrderCount == 0)
            {
                continue;
            }

            foreach (var order in instruments[id - 1].Book.OrdersInPriority())
            {
                if (order.AccountId == accountId)
                {
                    result.Add(new OpenOrder(id, order));
                }
            }
        }

        return result;
    }

    /// <summary>Equity, balance and requirements of an account at current marks.</summary>
    public MarginSummary GetMarginSummary(int accountId) =>
        TryGetAccount(accountId, out var account) ? ComputeMargin(account) : default;

    /// <summary>The full margin report of an account (docs/margin.md), or null for an unknown account.</summary>
    public MarginReport? GetMarginReport(int accountId) =>
        TryGetAccount(accountId, out var account) ? margin.Report(account) : null;

    /// <summary>The portfolio-margin scenarios in their fixed order (the indexes a report's binding scenario refers to).</summary>
    public ReadOnlySpan<Scenario> MarginScenarios => margin.Scenarios;

    /// <summary>
    /// Re-margins every account exposed to <paramref name="underlying"/> (and only those): for each,
    /// its cross equity and maintenance, then each of its isolated positions on that underlying.
    /// Marks are computed once per instrument for the whole pass. Accounts come in no particular
    /// order; a caller that acts on the result must sort it. Allocates nothing once
    /// <paramref name="output"/> has grown.
    /// </summary>
    public void Remargin(Underlying underlying, List<AccountHealth> output)
    {
        output.Clear();
        if (markCache.Length < instruments.Count + 1)
        {
            markCache = new Price[instruments.Count + 1];
        }

        foreach (var instrument in instruments)
        {
            markCache[instrument.Id] = instrument.MarkPrice;
        }

        margin.UseMarks(markCache);
        try
        {
            foreach (int accountId in underlying.Exposure.MemberSpan)
            {
                var account = accounts[accountId - 1];
                var cross = margin.Health(account);
                output.Add(new AccountHealth(accountId, 0, cross.Equity, cross.Maintenance));
                foreach (int instrumentId in account.ActiveInstruments)
                {
                    ref readonly var position = ref account.Peek(instrumentId);
                    var instrument = instruments[instrumentId - 1];
                    if (position.Isolated && instrument.Underlying == underlying)
                    {
                        var isolated = margin.Isolated(instrument, position);
                        output.Add(new AccountHealth(accountId, instrumentId, isolated.Equity, isolated.Maintenance));
                    }
                }
            }
        }
        finally
        {
            margin.UseMarks(null);
        }
    }

    /// <summary>SHA-256 over a canonical encoding of the whole state (see <see cref="StateHash"/>).</summary>
    public byte[] ComputeStateHash() => StateHash.Compute(this);

    public string ComputeStateHashHex() => Convert.ToHexStringLower(ComputeStateHash());

    // ---------------------------------------------------------------- restoring from a snapshot

    internal IReadOnlyList<Account> AccountList => accounts;

    /// <summary>Accounts changed since the last call, ascending; for incremental state roots.</summary>
    internal int[] DrainDirtyAccounts() => dirtyAccounts.Drain();

    /// <summary>Instruments changed since the last call, ascending.</summary>
    internal int[] DrainDirtyInstruments() => dirtyInstruments.Drain();

    internal void RestoreCounters(long lastSequence, long lastTimestampMicros, long nextOrder, long nextTrade, int nextReporter, Schedule clock)
    {
        LastSequence = lastSequence;
        LastTimestampMicros = lastTimestampMicros;
        nextOrderId = nextOrder;
        nextTradeId = nextTrade;
        nextReporterId = nextReporter;
        schedule = clock;
    }

    internal Underlying RestoreUnderlying(string name, Price index, long updatedMicros)
    {
        var underlying = NewUnderlying(name);
        underlying.IndexPrice = index;
        underlying.IndexUpdatedMicros = updatedMicros;
        return underlying;
    }

    internal Instrument RestoreInstrument(InstrumentSpec spec, long listedMicros)
    {
        var instrument = new Instrument(instruments.Count + 1, spec, underlyingsByName[spec.Terms.Underlying], config.BookFactory(), listedMicros, config.MarkClampPpm);
        Register(instrument);
        return instrument;
    }

    private void Register(Instrument instrument)
    {
        instruments.Add(instrument);
        instrumentsByName.Add(instrument.Name, instrument);
        instrument.Guard.Parameters = config.Guards; // the venue default; a snapshot restores the instrument's own
        instrument.Underlying.Listed.Add(instrument);
        if (instrument.Kind == InstrumentKind.Option)
        {
            var terms = instrument.Spec.Terms;
            var key = (terms.ExpiryDate!.Value, terms.Strike.Micros, instrument.Underlying.Id);
            if (!strikeGroups.TryGetValue(key, out int group))
            {
                group = strikeGroups.Count;
                strikeGroups.Add(key, group);
                margin.RegisterGroup(group, instrument.Underlying.Id);
            }

            instrument.StrikeGroup = group;
        }

        dirtyInstruments.Mark(instrument.Id);
    }

    /// <summary>
    /// After a snapshot is restored: rebuilds what is derived from state and not stored (exposure
    /// of accounts to underlyings, option scenario grids from the inputs of their last marks).
    /// </summary>
    internal void RebuildDerivedState()
    {
        foreach (var account in accounts)
        {
            foreach (int instrumentId in account.ActiveInstruments)
            {
                instruments[instrumentId - 1].Underlying.Exposure.Add(account.Id);
            }
        }

        foreach (var underlying in underlyings)
        {
            ComputeRiskGrids(underlying, remark: false);
        }
    }

    internal Account RestoreAccount()
    {
        var account = new Account(accounts.Count + 1);
        accounts.Add(account);
        dirtyAccounts.Mark(account.Id);
        return account;
    }

    /// <summary>Puts a resting order back at the end of its level; call in priority order. Position aggregates are restored separately.</summary>
    internal void RestoreOrder(Instrument instrument, in RestingOrder order)
    {
        instrument.Book.Add(order);
        instrumentOfOrder.Add(order.OrderId, instrument.Id);
        if (order.ClientOrderId is { } clientOrderId)
        {
            openClientOrderIds.Add((order.AccountId, clientOrderId), order.OrderId);
        }
    }

    // ---------------------------------------------------------------- accounts and collateral

    private RejectReason Open()
    {
        var account = new Account(accounts.Count + 1);
        accounts.Add(account);
        dirtyAccounts.Mark(account.Id);
        ref var e = ref Emit(EventKind.AccountCreated);
        e.AccountId = account.Id;
        return RejectReason.None;
    }

    private RejectReason ApplyDeposit(Deposit command)
    {
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        if (!command.Amount.IsPositive)
        {
            return RejectReason.AmountNotPositive;
        }

        if (command.Amount.Micros > config.MaxTransferMicros
            || account.Cash.Micros > (long.MaxValue / 4) - command.Amount.Micros
            || Ledger.TotalDeposited.Micros > (long.MaxValue / 2) - command.Amount.Micros)
        {
            return RejectReason.AmountTooLarge;
        }

        Ledger.Deposit(account, command.Amount);
        dirtyAccounts.Mark(account.Id);
        ref var e = ref Emit(EventKind.Deposited);
        e.AccountId = account.Id;
        e.Amount = command.Amount;
        return RejectReason.None;
    }

    private RejectReason ApplyWithdraw(Withdraw command)
    {
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        if (!command.Amount.IsPositive)
        {
            return RejectReason.AmountNotPositive;
        }

        if (command.Amount.Micros > config.MaxTransferMicros)
        {
            return RejectReason.AmountTooLarge;
        }

        if (IsBeingLiquidated(account.Id, 0))
        {
            return RejectReason.AccountInLiquidation;
        }

        if (command.Amount > ComputeMargin(account).Available)
        {
            return RejectReason.InsufficientFreeCollateral;
        }

        foreach (int instrumentId in account.ActiveInstruments)
        {
            // A withdrawal is judged against marks; a stale index could make it look safer than it is.
            if (instruments[instrumentId - 1].Underlying.StatusAt(now) == OracleStatus.Stale)
            {
                return RejectReason.WithdrawalHeldOracleStale;
            }
        }

        Ledger.Withdraw(account, command.Amount);
        dirtyAccounts.Mark(account.Id);
        ref var e = ref Emit(EventKind.Withdrawn);
        e.AccountId = account.Id;
        e.Amount = command.Amount;
        return RejectReason.None;
    }

    // ---------------------------------------------------------------- instruments and prices

    private RejectReason List(ListInstrument command)
    {
        var spec = command.Spec;
        if (spec is null || !spec.TryValidate(out _))
        {
            return RejectReason.InvalidInstrumentSpec;
        }

        if (instrumentsByName.ContainsKey(spec.Name))
        {
            return RejectReason.InstrumentAlreadyListed;
        }

        if (spec.Terms.Kind != InstrumentKind.Perpetual && spec.Terms.ExpiryMicros <= now)
        {
            return RejectReason.ExpiryInPast;
        }

        if (!underlyingsByName.TryGetValue(spec.Terms.Underlying, out var underlying))
        {
            underlying = NewUnderlying(spec.Terms.Underlying);
        }

        var instrument = new Instrument(instruments.Count + 1, spec, underlying, config.BookFactory(), now, config.MarkClampPpm);
        Register(instrument);
        ref var e = ref Emit(EventKind.InstrumentListed);
        e.InstrumentId = instrument.Id;
        e.UnderlyingId = underlying.Id;
        return RejectReason.None;
    }

    private RejectReason SetIndex(SetIndexPrice command)
    {
        if (command.Underlying is null || !underlyingsByName.TryGetValue(command.Underlying, out var underlying))
        {
            return RejectReason.UnknownUnderlying;
        }

        if (underlying.Oracle is not null)
        {
            return RejectReason.IndexSetByOracle;
        }

        if (!command.Price.IsPositive || command.Price.Micros > config.MaxIndexPriceMicros)
        {
            return RejectReason.IndexPriceOutOfRange;
        }

        underlying.IndexPrice = command.Price;
        underlying.IndexUpdatedMicros = now;
        ref var e = ref Emit(EventKind.IndexPriceSet);
        e.UnderlyingId = underlying.Id;
        e.Price = command.Price;
        return RejectReason.None;
    }

    // ---------------------------------------------------------------- oracles

    private Underlying NewUnderlying(string name)
    {
        var underlying = new Underlying(underlyings.Count + 1, name, new IndexTwap(config.TwapSampleIntervalMicros, config.TwapWindowSamples));
        underlyings.Add(underlying);
        underlyingsByName.Add(name, underlying);
        return underlying;
    }

    private RejectReason Configure(ConfigureOracle command)
    {
        if (command.Underlying is null || !underlyingsByName.TryGetValue(command.Underlying, out var underlying))
        {
            return RejectReason.UnknownUnderlying;
        }

        if (command.Parameters is not { IsValid: true })
        {
            return RejectReason.InvalidOracleParameters;
        }

        if (underlying.Oracle is null)
        {
            underlying.Oracle = new OracleState(command.Parameters);
        }
        else
        {
            underlying.Oracle.Parameters = command.Parameters;
        }

        Reaggregate(underlying);
        ref var e = ref Emit(EventKind.OracleConfigured);
        e.UnderlyingId = underlying.Id;
        e.OracleStatus = underlying.Oracle.LastStatus;
        return RejectReason.None;
    }

    private RejectReason Register(RegisterReporter command)
    {
        if (command.Underlying is null || !underlyingsByName.TryGetValue(command.Underlying, out var underlying))
        {
            return RejectReason.UnknownUnderlying;
        }

        if (underlying.Oracle is not { } oracle)
        {
            return RejectReason.OracleNotConfigured;
        }

        if (command.PublicKey is not { Length: PriceReport.PublicKeySize }
            || !NSec.Cryptography.PublicKey.TryImport(NSec.Cryptography.SignatureAlgorithm.Ed25519, command.PublicKey, NSec.Cryptography.KeyBlobFormat.RawPublicKey, out _))
        {
            return RejectReason.InvalidReporterKey;
        }

        foreach (var existing in oracle.Reporters)
        {
            if (existing.PublicKey.AsSpan().SequenceEqual(command.PublicKey))
            {
                return RejectReason.ReporterAlreadyRegistered;
            }
        }

        var slot = oracle.AddReporter(nextReporterId++, [.. command.PublicKey]);
        ref var e = ref Emit(EventKind.ReporterRegistered);
        e.UnderlyingId = underlying.Id;
        e.ReporterId = slot.Id;
        Reaggregate(underlying);
        return RejectReason.None;
    }

    /// <summary>
    /// Verifies a signed report before it can move anything, then aggregates. Checks, in order:
    /// known underlying with an oracle, registered reporter, valid signature, price in range, not
    /// from the future, not a duplicate or replay of the reporter's latest, not older than the
    /// staleness limit. A report far from the other reporters is accepted but left out of the index.
    /// </summary>
    private RejectReason SubmitReport(SubmitPriceReport command)
    {
        var report = command.Report;
        if (report?.Underlying is null || !underlyingsByName.TryGetValue(report.Underlying, out var underlying))
        {
            return RejectReason.UnknownUnderlying;
        }

        if (underlying.Oracle is not { } oracle)
        {
            return RejectReason.OracleNotConfigured;
        }

        var reporter = oracle.FindReporter(report.ReporterId);
        if (reporter is null)
        {
            return RejectReason.UnknownReporter;
        }

        if (!report.HasValidSignature(reporter.PublicKey))
        {
            return RejectReason.ReportSignatureInvalid;
        }

        if (!report.Price.IsPositive || report.Price.Micros > config.MaxIndexPriceMicros)
        {
            return RejectReason.IndexPriceOutOfRange;
        }

        if (report.PublishMicros > now + oracle.Parameters.MaxFutureMicros)
        {
            return RejectReason.ReportFromFuture;
        }

        if (report.PublishMicros == reporter.LastPublishMicros)
        {
            return RejectReason.ReportDuplicate;
        }

        if (report.PublishMicros < reporter.LastPublishMicros)
        {
            return RejectReason.ReportReplayed;
        }

        if (now - report.PublishMicros > oracle.Parameters.StalenessMicros)
        {
            return RejectReason.ReportTooOld;
        }

        reporter.LastPrice = report.Price;
        reporter.LastPublishMicros = report.PublishMicros;
        if (!oracle.AgreesWithFreshMedian(report.Price, now))
        {
            reporter.OutlierCount++;
            ref var ignored = ref Emit(EventKind.OracleReportIgnored);
            ignored.UnderlyingId = underlying.Id;
            ignored.ReporterId = reporter.Id;
            ignored.Price = report.Price;
        }

        Reaggregate(underlying);
        return RejectReason.None;
    }

    /// <summary>Re-forms the index from the reports that are fresh now; emits index and status changes.</summary>
    private void Reaggregate(Underlying underlying)
    {
        var oracle = underlying.Oracle!;
        var aggregate = oracle.Aggregate(now, underlying.IndexPrice);
        if (aggregate.Status != OracleStatus.Stale && aggregate.Index != underlying.IndexPrice)
        {
            underlying.IndexPrice = aggregate.Index;
            underlying.IndexUpdatedMicros = now;
            ref var e = ref Emit(EventKind.IndexPriceSet);
            e.UnderlyingId = underlying.Id;
            e.Price = aggregate.Index;
        }

        if (aggregate.Status != oracle.LastStatus)
        {
            oracle.LastStatus = aggregate.Status;
            ref var e = ref Emit(EventKind.OracleStatusChanged);
            e.UnderlyingId = underlying.Id;
            e.OracleStatus = aggregate.Status;
        }
    }

    /// <summary>
    /// Accepts a signed volatility surface: from a registered reporter of the underlying, newer
    /// than the one in force, no later than the clock allows, and free of arbitrage
    /// (<see cref="Pricing.VolSurface.Validate"/>). Option marks are recomputed at once.
    /// </summary>
    private RejectReason SetSurface(SetVolatilitySurface command)
    {
        var update = command.Update;
        if (update?.Parameters?.Underlying is null || !underlyingsByName.TryGetValue(update.Parameters.Underlying, out var underlying))
        {
            return RejectReason.UnknownUnderlying;
        }

        if (underlying.Oracle is not { } oracle)
        {
            return RejectReason.OracleNotConfigured;
        }

        var reporter = oracle.FindReporter(update.ReporterId);
        if (reporter is null)
        {
            return RejectReason.UnknownReporter;
        }

        if (!update.HasValidSignature(reporter.PublicKey))
        {
            return RejectReason.ReportSignatureInvalid;
        }

        if (update.Parameters.PublishedMicros > now + oracle.Parameters.MaxFutureMicros)
        {
            return RejectReason.ReportFromFuture;
        }

        if (underlying.VolSurface is { } current && update.Parameters.PublishedMicros <= current.Parameters.PublishedMicros)
        {
            return RejectReason.VolSurfaceReplayed;
        }

        if (!Pricing.VolSurface.TryCreate(update.Parameters, out var surface, out _))
        {
            return RejectReason.VolSurfaceInvalid;
        }

        underlying.VolSurface = surface;
        ref var e = ref Emit(EventKind.VolSurfaceSet);
        e.UnderlyingId = underlying.Id;
        e.ReporterId = reporter.Id;
        MarkOptions(underlying);
        return RejectReason.None;
    }

    /// <summary>
    /// Recomputes the marks of an underlying's listed options: Black-76 with σ(K, T) from the
    /// surface, on the forward = the mark of the listed future of the same expiry, else the index;
    /// no discounting (USDC-settled, margin-funded). Rounded down; an option the surface cannot
    /// price keeps a zero mark. The portfolio-margin scenario grid of every option is recomputed
    /// in the same batched pass (<see cref="OptionRiskGrid"/>), from the same inputs.
    /// </summary>
    private void MarkOptions(Underlying underlying)
    {
        if (underlying.VolSurface is null || !underlying.IndexPrice.IsPositive)
        {
            return;
        }

        ComputeRiskGrids(underlying, remark: true);
    }

    /// <summary>The mark of an option the surface prices, but below one micro-USDC (see <see cref="ComputeRiskGrids"/>).</summary>
    private static readonly Price SmallestOptionMark = new(1);

    /// <summary>
    /// The option marks (when <paramref name="remark"/>) and scenario grids of an underlying. With
    /// <paramref name="remark"/> false the grids are rebuilt from the stored inputs of the last
    /// marks (forward and time), which gives the same bits as when they were marked.
    /// </summary>
    private void ComputeRiskGrids(Underlying underlying, bool remark)
    {
        if (underlying.VolSurface is not { } surface)
        {
            return;
        }

        futureMarksByExpiry.Clear();
        optionsToMark.Clear();
        foreach (var instrument in underlying.Listed)
        {
            bool active = instrument.State == InstrumentState.Active;
            if (instrument.Kind == InstrumentKind.Future && active)
            {
                futureMarksByExpiry.TryAdd(instrument.Spec.Terms.ExpiryDate!.Value, instrument.MarkPrice);
            }
            else if (instrument.Kind == InstrumentKind.Option && (remark ? active : instrument.OptionForward.IsPositive))
            {
                // Re-marking touches tradable options; a rebuild restores every grid there was.
                optionsToMark.Add(instrument);
            }
        }

        int n = optionsToMark.Count;
        if (n == 0)
        {
            return;
        }

        int width = riskGrid.ScenarioCount;
        if (riskInputs.Length < n)
        {
            riskInputs = new OptionRiskInput[Math.Max(n, riskInputs.Length * 2)];
            riskPriceable = new bool[riskInputs.Length];
        }

        if (riskRows.Length < n * width)
        {
            riskRows = new double[n * width];
            riskBaseValues = new double[n];
        }

        for (int i = 0; i < n; i++)
        {
            var option = optionsToMark[i];
            var terms = option.Spec.Terms;
            if (remark)
            {
                option.OptionForward = futureMarksByExpiry.TryGetValue(terms.ExpiryDate!.Value, out var futureMark) && futureMark.IsPositive
                    ? futureMark
                    : underlying.IndexPrice;
                option.OptionMarkedMicros = now;
            }

            double strike = Pricing.OptionMarks.ToDouble(terms.Strike);
            double forward = Pricing.OptionMarks.ToDouble(option.OptionForward);
            double years = Pricing.YearFraction.Between(option.OptionMarkedMicros, terms.ExpiryMicros);
            double vol = surface.Volatility(strike, forward, terms.ExpiryMicros, option.OptionMarkedMicros);

            // No live slice: the option has no mark (it cannot trade), and its grid falls back to
            // intrinsic value (σ = 0) rather than to no risk at all.
            riskPriceable[i] = !double.IsNaN(vol);
            riskInputs[i] = new OptionRiskInput(terms.Right, strike, forward, years, riskPriceable[i] ? vol : 0.0);
        }

        riskGrid.Compute(riskInputs.AsSpan(0, n), riskRows.AsSpan(0, n * width), riskBaseValues.AsSpan(0, n), config.PricingPath);
        for (int i = 0; i < n; i++)
        {
            var option = optionsToMark[i];
            option.EnsureRiskGrid(width);
            riskRows.AsSpan(i * width, width).CopyTo(option.RiskGridStorage);
            if (!remark)
            {
                continue;
            }

            // The base value is exactly the mark's Black-76 value (same inputs, bit-identical kernels).
            // An option priced below one micro-USDC (far out of the money, close to expiry) is marked
            // at one micro, the smallest price there is: zero means "no mark" and would stop it from
            // trading, so a short could not buy it back, until it expires. This rounds up, in the
            // holder's favour, by less than one micro per contract.
            var mark = riskPriceable[i] && Pricing.OptionMarks.TryToPrice(riskBaseValues[i], Rounding.Floor, out var value)
                ? (value.IsPositive ? value : SmallestOptionMark)
                : Price.Zero;
            if (mark != option.OptionMark)
            {
                option.OptionMark = mark;
            }

            dirtyInstruments.Mark(option.Id);
        }
    }

    // ---------------------------------------------------------------- the clock

    /// <summary>
    /// Runs what happens on the clock, for each boundary of sequencer time passed since the last
    /// tick: oracle staleness, mark basis samples, TWAP samples, premium samples, then funding.
    /// After a long gap, samples are taken once (at the latest boundary), and at most
    /// <see cref="MaxFundingCatchUp"/> missed funding intervals are paid, the oldest skipped.
    /// The first tick only sets the schedule.
    /// </summary>
    private RejectReason RunClock()
    {
        clockMovedMarks = false;
        foreach (var underlying in underlyings)
        {
            if (underlying.Oracle is not null)
            {
                var before = underlying.IndexPrice;
                Reaggregate(underlying);
                clockMovedMarks |= underlying.IndexPrice != before;
            }
        }

        bool first = schedule.LastBasisMicros == 0;

        // The last tick's time, to the basis interval (only ticks move it): whether this tick is
        // the first of its minute, whatever other commands came in between.
        long previousTick = schedule.LastBasisMicros;
        foreach (long boundary in Due(ref schedule.LastBasisMicros, config.BasisSampleIntervalMicros, 1, first))
        {
            clockMovedMarks = true;
            SampleBasis();
            foreach (var underlying in underlyings)
            {
                MarkOptions(underlying);
            }
        }

        foreach (long boundary in Due(ref schedule.LastTwapMicros, config.TwapSampleIntervalMicros, 1, first))
        {
            foreach (var underlying in underlyings)
            {
                if (underlying.IndexPrice.IsPositive && underlying.Oracle is not { LastStatus: OracleStatus.Stale })
                {
                    underlying.Twap.Add(boundary, underlying.IndexPrice);
                }
            }
        }

        SettleExpired(); // Engine.Settlement.cs: after the TWAP sample at the expiry boundary is in.
        ListScheduledOnTheMinute(previousTick); // Engine.Listing.cs

        foreach (long boundary in Due(ref schedule.LastPremiumMicros, config.PremiumSampleIntervalMicros, 1, first))
        {
            SamplePremium();
        }

        foreach (long boundary in Due(ref schedule.LastFundingMicros, config.FundingIntervalMicros, MaxFundingCatchUp, first))
        {
            clockMovedMarks = true;
            PayFunding(boundary);
        }

        RunGuards(); // Engine.Guards.cs: order expiry, breaker resumes and samples.
        return RejectReason.None;
    }

    /// <summary>Most missed funding intervals paid after a gap in ticks.</summary>
    public const int MaxFundingCatchUp = 48;

    private List<long> Due(ref long last, long interval, int maxCatchUp, bool first)
    {
        var due = new List<long>(1);
        long latest = FixedMath.Divide(now, interval, Rounding.Floor) * interval;
        if (first || last == 0)
        {
            last = latest;
            return due;
        }

        long missed = (latest - last) / interval;
        long start = missed > maxCatchUp ? latest - ((maxCatchUp - 1) * interval) : last + interval;
        for (long boundary = start; boundary <= latest; boundary += interval)
        {
            due.Add(boundary);
        }

        last = Math.Max(last, latest);
        return due;
    }

    private void SampleBasis()
    {
        foreach (var instrument in instruments)
        {
            if (instrument.Kind == InstrumentKind.Option || instrument.State != InstrumentState.Active)
            {
                continue;
            }

            bool hasBid = instrument.Book.TryGetBestBid(out var bid);
            bool hasAsk = instrument.Book.TryGetBestAsk(out var ask);
            if (MarkPrice.TrySampleBasis(instrument.Underlying.IndexPrice, hasBid, bid, hasAsk, ask, config.MarkClampPpm, out long basis))
            {
                instrument.BasisEmaMicros = MarkPrice.UpdateEma(instrument.BasisEmaMicros, basis, config.BasisEmaAlphaPpm);
                dirtyInstruments.Mark(instrument.Id);
            }
        }
    }

    private void SamplePremium()
    {
        Span<BookLevel> levels = stackalloc BookLevel[64];
        var impactNotional = new Money(config.ImpactNotionalMicros);
        foreach (var instrument in instruments)
        {
            var index = instrument.Underlying.IndexPrice;
            if (instrument.Kind != InstrumentKind.Perpetual || instrument.State != InstrumentState.Active || !index.IsPositive)
            {
                continue;
            }

            int bids = instrument.Book.CopyLevels(Side.Buy, levels);
            var impactBid = Clearing.Funding.ImpactPrice(levels[..bids], impactNotional, Side.Sell);
            int asks = instrument.Book.CopyLevels(Side.Sell, levels);
            var impactAsk = Clearing.Funding.ImpactPrice(levels[..asks], impactNotional, Side.Buy);
            instrument.PremiumSumPpb += Clearing.Funding.Premium(index, impactBid, impactAsk);
            instrument.PremiumSamples++;
            dirtyInstruments.Mark(instrument.Id);
        }
    }

    /// <summary>
    /// Pays one funding interval on every perpetual: the rate from the interval's average premium,
    /// then each position's payment at the index, payers rounding up and receivers down, the
    /// residue to the insurance fund.
    /// </summary>
    private void PayFunding(long boundary)
    {
        long intervalsPer8h = Math.Max(1, (8 * UnixMicros.PerHour) / config.FundingIntervalMicros);
        foreach (var instrument in instruments)
        {
            var index = instrument.Underlying.IndexPrice;
            if (instrument.Kind != InstrumentKind.Perpetual || instrument.State != InstrumentState.Active || !index.IsPositive)
            {
                continue;
            }

            long averagePremium = instrument.PremiumSamples == 0 ? 0 : instrument.PremiumSumPpb / instrument.PremiumSamples;
            long rate = Clearing.Funding.IntervalRate(averagePremium, config.FundingInterest8hPpb, config.FundingBand8hPpb, intervalsPer8h, config.FundingCapPerIntervalPpb);
            instrument.PremiumSumPpb = 0;
            instrument.PremiumSamples = 0;
            instrument.AddFunding(new FundingRecord(boundary, rate, averagePremium, index));
            dirtyInstruments.Mark(instrument.Id);
            ref var set = ref Emit(EventKind.FundingRateSet);
            set.InstrumentId = instrument.Id;
            set.RatePpb = rate;
            set.Price = index;
            if (rate == 0)
            {
                continue;
            }

            // Every account, then the insurance fund (which holds the positions it took over).
            for (int i = 0; i <= accounts.Count; i++)
            {
                var account = i < accounts.Count ? accounts[i] : Ledger.Insurance;
                var size = account.GetPosition(instrument.Id).Size;
                if (size.IsZero)
                {
                    continue;
                }

                var payment = Clearing.Funding.Payment(size, index, rate);
                Ledger.SettleFunding(account, payment);
                ref var paying = ref account.PositionIn(instrument.Id);
                if (paying.Isolated)
                {
                    paying.IsolatedCash -= payment;
                }

                if (account.Id > 0)
                {
                    dirtyAccounts.Mark(account.Id);
                }

                ref var paid = ref Emit(EventKind.FundingPaid);
                paid.AccountId = account.Id;
                paid.InstrumentId = instrument.Id;
                paid.Quantity = size;
                paid.Price = index;
                paid.RatePpb = rate;
                paid.Amount = payment;
            }

            Ledger.SweepFundingToInsurance();
        }
    }

    // ---------------------------------------------------------------- orders

    private RejectReason Place(PlaceOrder command)
    {
        // 1. Validate: who, where, what.
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        var reason = CheckTradable(command.InstrumentId, out var instrument);
        if (reason != RejectReason.None)
        {
            return reason;
        }

        if (IsBeingLiquidated(account.Id, instrument.Id))
        {
            return RejectReason.AccountInLiquidation;
        }

        var spec = instrument.Spec;
        bool postOnly = (command.Flags & OrderFlags.PostOnly) != 0;
        bool reduceOnly = (command.Flags & OrderFlags.ReduceOnly) != 0;
        bool isLimit = command.Type == OrderType.Limit;
        if (command.Side is not (Side.Buy or Side.Sell)
            || command.Type is not (OrderType.Limit or OrderType.Market)
            || command.TimeInForce is not (TimeInForce.GoodTilCancelled or TimeInForce.ImmediateOrCancel or TimeInForce.FillOrKill)
            || (command.Flags & ~(OrderFlags.PostOnly | OrderFlags.ReduceOnly)) != 0
            || command.SelfTradePrevention is not (SelfTradePrevention.CancelResting or SelfTradePrevention.CancelIncoming)
            || (postOnly && (!isLimit || command.TimeInForce != TimeInForce.GoodTilCancelled)))
        {
            return RejectReason.InvalidOrderOptions;
        }

        reason = CheckAmount(command.Amount, spec);
        if (reason != RejectReason.None)
        {
            return reason;
        }

        Price limit;
        if (isLimit)
        {
            reason = CheckPrice(command.Price, spec);
            if (reason != RejectReason.None)
            {
                return reason;
            }

            limit = command.Price;
        }
        else
        {
            limit = MarketProtectionLimit(instrument, command.Side);
        }

        if (IsTooLarge(limit, command.Amount))
        {
            return RejectReason.OrderTooLarge;
        }

        if (command.ClientOrderId is { } clientOrderId)
        {
            if (clientOrderId.Length is 0 or > MaxClientOrderIdLength)
            {
                return RejectReason.ClientOrderIdTooLong;
            }

            if (openClientOrderIds.ContainsKey((account.Id, clientOrderId)))
            {
                return RejectReason.DuplicateClientOrderId;
            }
        }

        bool mayRest = isLimit && command.TimeInForce == TimeInForce.GoodTilCancelled;
        if (mayRest && account.OpenOrderCount >= config.MaxOpenOrdersPerAccount)
        {
            return RejectReason.TooManyOpenOrders;
        }

        var amount = command.Amount;
        if (reduceOnly)
        {
            var position = account.GetPosition(instrument.Id);
            long room = Math.Abs(position.Size.Units) - position.ReduceOnlyOpenQuantity.Units;
            if (position.Size.IsZero || position.Size.Sign == command.Side.Sign() || room <= 0)
            {
                return RejectReason.ReduceOnlyWouldIncrease;
            }

            amount = new Quantity(Math.Min(amount.Units, room));
        }

        reason = CheckOrderGuards(command, account, instrument, isLimit, amount, ref limit); // Engine.Guards.cs
        if (reason != RejectReason.None)
        {
            return reason;
        }

        var book = instrument.Book;
        if (postOnly && book.WouldCross(command.Side, limit))
        {
            return RejectReason.PostOnlyWouldCross;
        }

        if (command.TimeInForce == TimeInForce.FillOrKill
            && book.FillableQuantity(command.Side, limit, account.Id, command.SelfTradePrevention, amount) < amount)
        {
            return RejectReason.FillOrKillNotFillable;
        }

        // 2. Check margin: positions and open orders, worst side, with this order added.
        reason = CheckOrderMargin(account, instrument, command.Side, limit, amount, mayTake: !postOnly, replaced: null, out var topUp);
        if (reason != RejectReason.None)
        {
            return reason;
        }

        // 3. Accept. Nothing below can fail.
        var order = new RestingOrder
        {
            OrderId = nextOrderId++,
            AccountId = account.Id,
            Side = command.Side,
            Flags = command.Flags,
            Price = limit,
            Amount = amount,
            Remaining = amount,
            CreatedMicros = now,
            UpdatedMicros = now,
            ClientOrderId = command.ClientOrderId,
        };
        EmitOrder(EventKind.OrderAccepted, instrument, order);
        MoveIntoIsolated(account, instrument, topUp);

        // 4. Match and clear each fill.
        bool stoppedBySelfTrade = false;
        if (!postOnly)
        {
            stoppedBySelfTrade = MatchIncoming(account, instrument, ref order, command.SelfTradePrevention);
        }

        // 5. Rest the remainder, or cancel it.
        if (order.Remaining.IsPositive)
        {
            if (mayRest && !stoppedBySelfTrade)
            {
                Rest(account, instrument, order);
                TrackExpiry(order.OrderId, command.ExpiresAtMicros); // Engine.Guards.cs
            }
            else
            {
                EmitCancelled(instrument, order, stoppedBySelfTrade ? CancelReason.SelfTradePrevention : CancelReason.ImmediateOrCancelRemainder);
            }
        }

        // 6. Post-trade upkeep.
        AfterTrading(instrument, account);
        return RejectReason.None;
    }

    private RejectReason Amend(AmendOrder command)
    {
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        if (!TryGetOpenOrder(command.OrderId, out var order, out var instrument) || order.AccountId != account.Id)
        {
            return RejectReason.UnknownOrder;
        }

        var reason = CheckTradable(instrument.Id, out _);
        if (reason == RejectReason.None && IsBeingLiquidated(account.Id, instrument.Id))
        {
            reason = RejectReason.AccountInLiquidation;
        }

        if (reason == RejectReason.None)
        {
            reason = CheckPrice(command.NewPrice, instrument.Spec);
        }

        if (reason == RejectReason.None)
        {
            reason = CheckAmount(command.NewAmount, instrument.Spec);
        }

        if (reason != RejectReason.None)
        {
            return reason;
        }

        var filled = order.Filled;
        if (command.NewAmount <= filled)
        {
            return RejectReason.AmendAmountNotAboveFilled;
        }

        var newRemaining = command.NewAmount - filled;
        if (IsTooLarge(command.NewPrice, newRemaining))
        {
            return RejectReason.OrderTooLarge;
        }

        bool postOnly = (order.Flags & OrderFlags.PostOnly) != 0;
        bool crosses = instrument.Book.WouldCross(order.Side, command.NewPrice);
        if (postOnly && crosses)
        {
            return RejectReason.PostOnlyWouldCross;
        }

        if (order.IsReduceOnly && newRemaining > order.Remaining)
        {
            return RejectReason.ReduceOnlyWouldIncrease;
        }

        reason = CheckAmendGuards(account, instrument, order, command.NewPrice, newRemaining); // Engine.Guards.cs
        if (reason != RejectReason.None)
        {
            return reason;
        }

        reason = CheckOrderMargin(account, instrument, order.Side, command.NewPrice, newRemaining, mayTake: crosses, replaced: order, out var topUp);
        if (reason != RejectReason.None)
        {
            return reason;
        }

        MoveIntoIsolated(account, instrument, topUp);

        // Accepted: a size decrease at the same price keeps time priority; anything else re-queues.
        ref var position = ref account.PositionIn(instrument.Id);
        AdjustOrderAggregates(ref position, order, -1);
        var amended = order;
        amended.Price = command.NewPrice;
        amended.Amount = command.NewAmount;
        amended.Remaining = newRemaining;
        amended.UpdatedMicros = now;
        EmitOrder(EventKind.OrderAmended, instrument, amended);

        if (command.NewPrice == order.Price && newRemaining <= order.Remaining)
        {
            instrument.Book.Reduce(order.OrderId, newRemaining, command.NewAmount, now);
            AdjustOrderAggregates(ref position, amended, +1);
        }
        else
        {
            instrument.Book.Remove(order.OrderId, out _);
            if (crosses)
            {
                // The account's own resting orders are never matched here; default self-trade prevention applies.
                MatchIncoming(account, instrument, ref amended, SelfTradePrevention.CancelResting);
            }

            ref var positionAfter = ref account.PositionIn(instrument.Id);
            if (amended.Remaining.IsPositive)
            {
                instrument.Book.Add(amended);
                AdjustOrderAggregates(ref positionAfter, amended, +1);
            }
            else
            {
                UnregisterOpenOrder(account, ref positionAfter, amended);
            }
        }

        AfterTrading(instrument, account);
        return RejectReason.None;
    }

    private RejectReason Cancel(CancelOrder command)
    {
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        if (!TryGetOpenOrder(command.OrderId, out var order, out var instrument) || order.AccountId != account.Id)
        {
            return RejectReason.UnknownOrder;
        }

        CancelResting(account, instrument, order.OrderId, CancelReason.UserRequested);
        ReleaseIfIdle(account, instrument.Id);
        dirtyAccounts.Mark(account.Id);
        dirtyInstruments.Mark(instrument.Id);
        return RejectReason.None;
    }

    private RejectReason CancelAll(CancelAllOrders command)
    {
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        if (command.InstrumentId != 0 && !TryGetInstrument(command.InstrumentId, out _))
        {
            return RejectReason.UnknownInstrument;
        }

        foreach (int instrumentId in account.ActiveInstruments.ToArray())
        {
            if (command.InstrumentId != 0 && instrumentId != command.InstrumentId)
            {
                continue;
            }

            var instrument = instruments[instrumentId - 1];
            if (account.GetPosition(instrumentId).OpenOrderCount == 0)
            {
                continue;
            }

            foreach (var order in instrument.Book.OrdersInPriority())
            {
                if (order.AccountId == account.Id)
                {
                    CancelResting(account, instrument, order.OrderId, CancelReason.UserRequested);
                }
            }

            ReleaseIfIdle(account, instrumentId);
            dirtyAccounts.Mark(account.Id);
            dirtyInstruments.Mark(instrumentId);
        }

        return RejectReason.None;
    }

    // ---------------------------------------------------------------- validation steps

    private RejectReason CheckTradable(int instrumentId, out Instrument instrument)
    {
        if (!TryGetInstrument(instrumentId, out instrument))
        {
            return RejectReason.UnknownInstrument;
        }

        if (instrument.State != InstrumentState.Active)
        {
            return NotActiveReason(instrument); // Engine.Guards.cs: a breaker halt has its own reason
        }

        return instrument.MarkPrice.IsPositive ? RejectReason.None : RejectReason.NoMarkPrice;
    }

    private static RejectReason CheckAmount(Quantity amount, InstrumentSpec spec)
    {
        if (!amount.IsPositive)
        {
            return RejectReason.OrderAmountNotPositive;
        }

        return amount.IsMultipleOf(spec.MinAmount) ? RejectReason.None : RejectReason.AmountNotOnLot;
    }

    private static RejectReason CheckPrice(Price price, InstrumentSpec spec)
    {
        if (!price.IsPositive)
        {
            return RejectReason.PriceNotPositive;
        }

        return price.IsMultipleOf(spec.TickSize) ? RejectReason.None : RejectReason.PriceNotOnTick;
    }

    private bool IsTooLarge(Price price, Quantity amount) =>
        (Int128)price.Micros * amount.Units > (Int128)config.MaxOrderNotionalMicros * Quantity.Scale;

    /// <summary>
    /// The worst price a market order may fill at: the mark moved by the protection band, rounded
    /// to a tick toward the mark (buys down, sells up), and never below one tick.
    /// </summary>
    private static Price MarketProtectionLimit(Instrument instrument, Side side)
    {
        var spec = instrument.Spec;
        var mark = instrument.MarkPrice;
        if (side == Side.Buy)
        {
            return mark.MultiplyPpm(1_000_000 + spec.MarketProtectionPpm, Rounding.Floor).RoundToTick(spec.TickSize, Rounding.Floor);
        }

        var floor = mark.MultiplyPpm(1_000_000 - spec.MarketProtectionPpm, Rounding.Ceiling).RoundToTick(spec.TickSize, Rounding.Ceiling);
        return floor.IsPositive ? floor : spec.TickSize;
    }

    /// <summary>
    /// Pre-trade check. Accepts when the initial requirement with the order added (and, for an
    /// amend, the old order removed), plus the taker fee it could pay, stays within equity; or when
    /// the order does not raise the requirement at all, so that an account can always reduce its
    /// risk. Cross positions are judged with the whole account (standard or portfolio margin); an
    /// isolated position on its own collateral, topped up from the cross funds available when
    /// short (<paramref name="isolatedTopUp"/>, moved once the order is accepted).
    /// </summary>
    private RejectReason CheckOrderMargin(Account account, Instrument instrument, Side side, Price price, Quantity amount, bool mayTake, RestingOrder? replaced, out Money isolatedTopUp)
    {
        isolatedTopUp = Money.Zero;
        var current = account.GetPosition(instrument.Id);
        var hypothetical = current;
        if (replaced is { } old)
        {
            AdjustOrderAggregates(ref hypothetical, old, -1);
        }

        var withoutOrder = hypothetical;
        var added = new RestingOrder { Side = side, Price = price, Remaining = amount };
        AdjustOrderAggregates(ref hypothetical, added, +1);

        // The loss of orders priced through the mark is taken per side on the aggregates (margin never
        // walks the book), so the account's other orders on that side priced better than the mark would
        // offset this one's loss, or this one, priced better, theirs. But this order may fill at once and
        // lock its loss in whatever else rests: it counts on its own, in full, never netted. (The
        // aggregate's change is at most that, so the correction is never negative.)
        var mark = instrument.MarkPrice;
        var ownLoss = side == Side.Buy
            ? StandardMargin.OrderNotional(side, price, amount) - Notional.Of(mark, amount, Rounding.Floor)
            : Notional.Of(mark, amount, Rounding.Ceiling) - StandardMargin.OrderNotional(side, price, amount);
        var aggregated = StandardMargin.AdverseOrderCost(hypothetical, mark) - StandardMargin.AdverseOrderCost(withoutOrder, mark);
        var unoffsetLoss = Money.Max(Money.Zero, ownLoss) - aggregated;

        var fee = mayTake && instrument.Spec.TakerFeePpm > 0
            ? Notional.Of(price, amount, Rounding.Ceiling).MultiplyPpm(instrument.Spec.TakerFeePpm, Rounding.Ceiling)
            : Money.Zero;
        bool stale = instrument.Underlying.Oracle is not null && instrument.Underlying.StatusAt(now) == OracleStatus.Stale;

        if (current.Isolated)
        {
            var before = margin.Isolated(instrument, current);
            var after = margin.Isolated(instrument, hypothetical);
            var afterInitial = after.Initial + unoffsetLoss;
            if (afterInitial <= before.Initial)
            {
                return RejectReason.None;
            }

            if (stale)
            {
                return RejectReason.OracleStaleRiskReducingOnly;
            }

            var shortfall = afterInitial + fee - after.Equity;
            if (!shortfall.IsPositive)
            {
                return RejectReason.None;
            }

            if (shortfall > margin.Cross(account).Available)
            {
                return RejectReason.InsufficientMargin;
            }

            isolatedTopUp = shortfall;
            return RejectReason.None;
        }

        if (account.MarginMode == MarginMode.Portfolio)
        {
            var before = margin.Cross(account);
            var after = margin.Cross(account, instrument.Id, hypothetical);
            var afterInitial = after.Initial + unoffsetLoss;
            if (afterInitial <= before.Initial)
            {
                return RejectReason.None;
            }

            if (stale)
            {
                return RejectReason.OracleStaleRiskReducingOnly;
            }

            return afterInitial + fee <= after.Equity ? RejectReason.None : RejectReason.InsufficientMargin;
        }

        // Standard margin is a sum over positions: only this position's part changes.
        var positionBefore = margin.StandardInitial(instrument, current);
        var positionAfter = margin.StandardInitial(instrument, hypothetical) + unoffsetLoss;
        if (positionAfter <= positionBefore)
        {
            return RejectReason.None;
        }

        if (stale)
        {
            return RejectReason.OracleStaleRiskReducingOnly;
        }

        var summary = margin.Cross(account);
        var required = summary.Initial - positionBefore + positionAfter + fee;
        return required <= summary.Equity ? RejectReason.None : RejectReason.InsufficientMargin;
    }

    private MarginSummary ComputeMargin(Account account) => margin.Cross(account);

    /// <summary>Moves collateral from the cross balance into an isolated position (an accepted order's top-up, or a transfer).</summary>
    private void MoveIntoIsolated(Account account, Instrument instrument, Money amount)
    {
        if (amount.IsZero)
        {
            return;
        }

        ref var position = ref account.PositionIn(instrument.Id);
        position.IsolatedCash += amount;
        if (account.Activate(instrument.Id) && account.Id > 0)
        {
            instrument.Underlying.Exposure.Add(account.Id);
        }

        dirtyAccounts.Mark(account.Id);
        ref var e = ref Emit(EventKind.IsolatedMarginTransferred);
        e.AccountId = account.Id;
        e.InstrumentId = instrument.Id;
        e.Amount = amount;
    }

    /// <summary>
    /// Forgets an instrument the account no longer holds. An isolated position that is flat and has
    /// no orders first hands its collateral back to the cross balance; a negative remainder (the
    /// position lost more than its collateral) is covered by the insurance fund, so that the loss
    /// never reaches the rest of the account.
    /// </summary>
    private void ReleaseIfIdle(Account account, int instrumentId)
    {
        if (heldIsolatedRelease == (account.Id, instrumentId))
        {
            return; // a liquidation step is under way on it: released when the step ends
        }

        ref var position = ref account.PositionIn(instrumentId);
        if (position.Isolated && position.Size.IsZero && position.OpenOrderCount == 0 && position.OpenCost.IsZero && !position.IsolatedCash.IsZero)
        {
            var remainder = position.IsolatedCash;
            position.IsolatedCash = Money.Zero;
            ref var e = ref Emit(remainder.IsNegative ? EventKind.IsolatedDeficitCovered : EventKind.IsolatedMarginTransferred);
            e.AccountId = account.Id;
            e.InstrumentId = instrumentId;
            e.Amount = -remainder;
            if (remainder.IsNegative)
            {
                Ledger.CoverDeficit(account, -remainder);
            }

            dirtyAccounts.Mark(account.Id);
        }

        if (account.DeactivateIfIdle(instrumentId) && account.Id > 0)
        {
            instruments[instrumentId - 1].Underlying.Exposure.Remove(account.Id);
        }
    }

    // ---------------------------------------------------------------- margin modes

    private RejectReason ApplySetMarginMode(SetMarginMode command)
    {
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        if (command.Mode is not (MarginMode.Standard or MarginMode.Portfolio))
        {
            return RejectReason.InvalidMarginMode;
        }

        var previous = account.MarginMode;
        var before = margin.Cross(account);
        account.MarginMode = command.Mode;
        var after = margin.Cross(account);
        if (after.Initial > before.Initial)
        {
            var reason = after.Initial > after.Equity ? RejectReason.MarginModeUncovered : RejectReason.None;
            foreach (int instrumentId in account.ActiveInstruments)
            {
                var underlying = instruments[instrumentId - 1].Underlying;
                if (reason == RejectReason.None && underlying.Oracle is not null && underlying.StatusAt(now) == OracleStatus.Stale)
                {
                    reason = RejectReason.OracleStaleRiskReducingOnly;
                }
            }

            if (reason != RejectReason.None)
            {
                account.MarginMode = previous;
                return reason;
            }
        }

        dirtyAccounts.Mark(account.Id);
        ref var e = ref Emit(EventKind.MarginModeSet);
        e.AccountId = account.Id;
        e.MarginMode = command.Mode;
        return RejectReason.None;
    }

    private RejectReason ApplySetIsolated(SetIsolatedMargin command)
    {
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        if (!TryGetInstrument(command.InstrumentId, out var instrument))
        {
            return RejectReason.UnknownInstrument;
        }

        if (instrument.Kind == InstrumentKind.Option)
        {
            return RejectReason.IsolatedNotForOptions;
        }

        var position = account.GetPosition(instrument.Id);
        if (!position.Size.IsZero || position.OpenOrderCount != 0 || !position.OpenCost.IsZero || !position.IsolatedCash.IsZero)
        {
            return RejectReason.MarginModeLockedByPosition;
        }

        account.PositionIn(instrument.Id).Isolated = command.Isolated;
        dirtyAccounts.Mark(account.Id);
        ref var e = ref Emit(EventKind.IsolatedMarginSet);
        e.AccountId = account.Id;
        e.InstrumentId = instrument.Id;
        e.Isolated = command.Isolated;
        return RejectReason.None;
    }

    private RejectReason ApplyTransferIsolated(TransferIsolatedMargin command)
    {
        if (!TryGetAccount(command.AccountId, out var account))
        {
            return RejectReason.UnknownAccount;
        }

        if (!TryGetInstrument(command.InstrumentId, out var instrument))
        {
            return RejectReason.UnknownInstrument;
        }

        if (command.Amount.IsZero)
        {
            return RejectReason.AmountNotPositive;
        }

        if (command.Amount.Micros > config.MaxTransferMicros || command.Amount.Micros < -config.MaxTransferMicros)
        {
            return RejectReason.AmountTooLarge;
        }

        var position = account.GetPosition(instrument.Id);
        if (!position.Isolated)
        {
            return RejectReason.PositionNotIsolated;
        }

        if (position.Size.IsZero && position.OpenOrderCount == 0)
        {
            return RejectReason.NoIsolatedPosition;
        }

        if (command.Amount.IsPositive)
        {
            if (command.Amount > margin.Cross(account).Available)
            {
                return RejectReason.InsufficientFreeCollateral;
            }
        }
        else
        {
            if (-command.Amount > margin.Isolated(instrument, position).Available)
            {
                return RejectReason.InsufficientFreeCollateral;
            }

            if (instrument.Underlying.StatusAt(now) == OracleStatus.Stale)
            {
                return RejectReason.WithdrawalHeldOracleStale;
            }
        }

        MoveIntoIsolated(account, instrument, command.Amount);
        return RejectReason.None;
    }

    // ---------------------------------------------------------------- matching and clearing

    private bool MatchIncoming(Account account, Instrument instrument, ref RestingOrder order, SelfTradePrevention stp) =>
        MatchIncoming(account, instrument, ref order, stp, isLiquidation: false, out _);

    private bool MatchIncoming(Account account, Instrument instrument, ref RestingOrder order, SelfTradePrevention stp, bool isLiquidation, out Money filledNotional)
    {
        taker = new Taker(account, instrument, order.OrderId, order.Side, order.Remaining, isLiquidation);
        var outcome = instrument.Book.Match(order.Side, order.Price, order.Remaining, account.Id, stp, this);
        order.Remaining -= outcome.Filled;
        filledNotional = taker.FilledNotional;
        taker = default;
        return outcome.StoppedBySelfTrade;
    }

    void IMatchListener.OnMakerFill(in RestingOrder maker, Quantity quantity)
    {
        var instrument = taker.Instrument!;
        var makerAccount = accounts[maker.AccountId - 1];
        ref var makerPosition = ref makerAccount.PositionIn(instrument.Id);

        // The maker's open-order aggregates move from its old open amount to the new one.
        var beforeFill = maker;
        beforeFill.Remaining = maker.Remaining + quantity;
        AdjustOrderAggregates(ref makerPosition, beforeFill, -1);
        if (maker.Remaining.IsPositive)
        {
            AdjustOrderAggregates(ref makerPosition, maker, +1);
        }
        else
        {
            UnregisterOpenOrder(makerAccount, ref makerPosition, maker);
        }

        taker.Remaining -= quantity;
        ClearFill(instrument, taker.Account!, makerAccount, taker.Side, maker.Price, quantity, out var takerFee, out var makerFee, takerPaysFee: !taker.IsLiquidation);
        NoteFill(taker.Account!);
        NoteFill(makerAccount);
        taker.FilledNotional += Notional.Of(maker.Price, quantity, Rounding.Floor);

        ref var e = ref Emit(EventKind.TradeExecuted);
        e.TradeId = nextTradeId++;
        e.InstrumentId = instrument.Id;
        e.Side = taker.Side;
        e.Price = maker.Price;
        e.Quantity = quantity;
        e.AccountId = taker.Account!.Id;
        e.OrderId = taker.OrderId;
        e.Remaining = taker.Remaining;
        e.Amount = takerFee;
        e.Liquidation = taker.IsLiquidation;
        e.ProofIndex = taker.IsLiquidation ? liquidations.Count - 1 : 0;
        e.MakerAccountId = makerAccount.Id;
        e.MakerOrderId = maker.OrderId;
        e.MakerRemaining = maker.Remaining;
        e.MakerFee = makerFee;

        Touch(makerAccount);
    }

    void IMatchListener.OnSelfTradeCancel(in RestingOrder resting)
    {
        var account = accounts[resting.AccountId - 1];
        ref var position = ref account.PositionIn(taker.Instrument!.Id);
        AdjustOrderAggregates(ref position, resting, -1);
        UnregisterOpenOrder(account, ref position, resting);
        EmitCancelled(taker.Instrument, resting, CancelReason.SelfTradePrevention);
    }

    /// <summary>
    /// Clears one fill between two accounts, double entry throughout: the buyer pays the notional
    /// rounded up, the seller receives it rounded down, and the sub-micro residue goes to the fee
    /// account. Positions, cost basis, realized PnL and open interest follow; fees (or a maker
    /// rebate) move between each trader and the fee account.
    /// </summary>
    private void ClearFill(Instrument instrument, Account takerAccount, Account makerAccount, Side takerSide, Price price, Quantity quantity, out Money takerFee, out Money makerFee, bool takerPaysFee = true, bool makerPaysFee = true, bool throughBook = true)
    {
        var (buyer, seller) = takerSide == Side.Buy ? (takerAccount, makerAccount) : (makerAccount, takerAccount);
        var paid = Notional.Of(price, quantity, Rounding.Ceiling);
        var received = Notional.Of(price, quantity, Rounding.Floor);
        Ledger.Transfer(buyer, seller, received);
        Ledger.CollectResidue(buyer, paid - received);

        ApplyFill(instrument, buyer, quantity, paid);
        ApplyFill(instrument, seller, -quantity, -received);

        var spec = instrument.Spec;
        takerFee = takerPaysFee ? Fee(spec.TakerFeePpm, paid, received) : Money.Zero;
        makerFee = makerPaysFee ? Fee(spec.MakerFeePpm, paid, received) : Money.Zero;
        Ledger.ChargeFee(takerAccount, takerFee);
        Ledger.ChargeFee(makerAccount, makerFee);

        // An isolated position's fills, fees and funding are its own: they move its collateral.
        var (buyerFee, sellerFee) = takerSide == Side.Buy ? (takerFee, makerFee) : (makerFee, takerFee);
        ref var buyerPosition = ref buyer.PositionIn(instrument.Id);
        if (buyerPosition.Isolated)
        {
            buyerPosition.IsolatedCash -= paid + buyerFee;
        }

        ref var sellerPosition = ref seller.PositionIn(instrument.Id);
        if (sellerPosition.Isolated)
        {
            sellerPosition.IsolatedCash += received - sellerFee;
        }

        // Only trades through the book set the last price (it feeds the mark of futures and
        // perpetuals): a takeover or deleveraging at a bankruptcy price is a transfer, not a market.
        if (throughBook)
        {
            instrument.LastTradePrice = price;
            instrument.TradeCount++;
        }
    }

    /// <summary>A fee rounds up on the notional rounded up; a rebate (negative rate) rounds toward zero on the notional rounded down.</summary>
    private static Money Fee(int ppm, Money notionalUp, Money notionalDown) =>
        ppm >= 0 ? notionalUp.MultiplyPpm(ppm, Rounding.Ceiling) : notionalDown.MultiplyPpm(ppm, Rounding.Ceiling);

    private void ApplyFill(Instrument instrument, Account account, Quantity delta, Money cashPaid)
    {
        ref var position = ref account.PositionIn(instrument.Id);
        var before = position.Size;
        TradeClearing.ApplyFill(ref position, delta, cashPaid);
        var after = position.Size;
        instrument.LongOpenInterest += new Quantity(Math.Max(after.Units, 0) - Math.Max(before.Units, 0));
        instrument.ShortOpenInterest += new Quantity(Math.Max(-after.Units, 0) - Math.Max(-before.Units, 0));
        if (account.Activate(instrument.Id) && account.Id > 0)
        {
            instrument.Underlying.Exposure.Add(account.Id);
        }
    }

    // ---------------------------------------------------------------- resting orders

    private void Rest(Account account, Instrument instrument, in RestingOrder order)
    {
        instrument.Book.Add(order);
        if (account.Activate(instrument.Id) && account.Id > 0)
        {
            instrument.Underlying.Exposure.Add(account.Id);
        }

        ref var position = ref account.PositionIn(instrument.Id);
        AdjustOrderAggregates(ref position, order, +1);
        position.OpenOrderCount++;
        account.OpenOrderCount++;
        instrumentOfOrder.Add(order.OrderId, instrument.Id);
        if (order.ClientOrderId is { } clientOrderId)
        {
            openClientOrderIds.Add((account.Id, clientOrderId), order.OrderId);
        }
    }

    private void CancelResting(Account account, Instrument instrument, long orderId, CancelReason reason)
    {
        instrument.Book.Remove(orderId, out var order);
        ref var position = ref account.PositionIn(instrument.Id);
        AdjustOrderAggregates(ref position, order, -1);
        UnregisterOpenOrder(account, ref position, order);
        EmitCancelled(instrument, order, reason);
    }

    /// <summary>Forgets an order that has left the book (filled or cancelled); its aggregates must already be removed.</summary>
    private void UnregisterOpenOrder(Account account, ref Position position, in RestingOrder order)
    {
        position.OpenOrderCount--;
        account.OpenOrderCount--;
        instrumentOfOrder.Remove(order.OrderId);
        if (order.ClientOrderId is { } clientOrderId)
        {
            openClientOrderIds.Remove((account.Id, clientOrderId));
        }
    }

    /// <summary>Adds (<paramref name="sign"/> = +1) or removes (−1) an order's open amount from its position's aggregates.</summary>
    private static void AdjustOrderAggregates(ref Position position, in RestingOrder order, int sign)
    {
        var quantity = new Quantity(sign * order.Remaining.Units);
        var notional = StandardMargin.OrderNotional(order.Side, order.Price, order.Remaining);
        if (sign < 0)
        {
            notional = -notional;
        }

        if (order.Side == Side.Buy)
        {
            position.OpenBuyQuantity += quantity;
            position.OpenBuyNotional += notional;
        }
        else
        {
            position.OpenSellQuantity += quantity;
            position.OpenSellNotional += notional;
        }

        if (order.IsReduceOnly)
        {
            position.ReduceOnlyOpenQuantity += quantity;
        }
    }

    /// <summary>
    /// After any matching: trims reduce-only orders that a position change has made too large (or
    /// wrong-sided), and forgets instruments an account no longer holds.
    /// </summary>
    private void AfterTrading(Instrument instrument, Account account)
    {
        Touch(account);
        dirtyInstruments.Mark(instrument.Id);
        for (int i = 0; i < touchedAccounts.Count; i++)
        {
            var touched = touchedAccounts[i];
            TrimReduceOnly(touched, instrument);
            ReleaseIfIdle(touched, instrument.Id);
            if (touched.Id > 0)
            {
                dirtyAccounts.Mark(touched.Id);
            }
        }

        touchedAccounts.Clear();
    }

    private void Touch(Account account)
    {
        foreach (var a in touchedAccounts)
        {
            if (ReferenceEquals(a, account))
            {
                return;
            }
        }

        touchedAccounts.Add(account);
    }

    /// <summary>
    /// Reduce-only orders may together close at most the current position, on the closing side.
    /// Orders are kept in priority order; the first that no longer fits is shrunk, the rest cancelled.
    /// </summary>
    private void TrimReduceOnly(Account account, Instrument instrument)
    {
        var position = account.GetPosition(instrument.Id);
        long size = position.Size.Units;
        if (!position.ReduceOnlyOpenQuantity.IsPositive)
        {
            return;
        }

        long room = Math.Abs(size);
        var closingSide = size > 0 ? Side.Sell : Side.Buy;
        foreach (var order in instrument.Book.OrdersInPriority())
        {
            if (order.AccountId != account.Id || !order.IsReduceOnly)
            {
                continue;
            }

            if (size == 0 || order.Side != closingSide || room == 0)
            {
                CancelResting(account, instrument, order.OrderId, CancelReason.ReduceOnlyTrimmed);
            }
            else if (order.Remaining.Units <= room)
            {
                room -= order.Remaining.Units;
            }
            else
            {
                ref var p = ref account.PositionIn(instrument.Id);
                AdjustOrderAggregates(ref p, order, -1);
                var trimmed = order;
                trimmed.Remaining = new Quantity(room);
                trimmed.Amount = order.Filled + trimmed.Remaining;
                trimmed.UpdatedMicros = now;
                instrument.Book.Reduce(order.OrderId, trimmed.Remaining, trimmed.Amount, now);
                AdjustOrderAggregates(ref p, trimmed, +1);
                ref var e = ref EmitOrder(EventKind.OrderAmended, instrument, trimmed);
                e.CancelReason = CancelReason.ReduceOnlyTrimmed;
                room = 0;
            }
        }
    }

    // ---------------------------------------------------------------- events

    private ref EngineEvent Emit(EventKind kind) => ref events.Add(kind, sequence, now);

    private ref EngineEvent EmitOrder(EventKind kind, Instrument instrument, in RestingOrder order)
    {
        ref var e = ref Emit(kind);
        e.AccountId = order.AccountId;
        e.InstrumentId = instrument.Id;
        e.OrderId = order.OrderId;
        e.Side = order.Side;
        e.Price = order.Price;
        e.Quantity = order.Amount;
        e.Remaining = order.Remaining;
        return ref e;
    }

    private void EmitCancelled(Instrument instrument, in RestingOrder order, CancelReason reason)
    {
        ref var e = ref EmitOrder(EventKind.OrderCancelled, instrument, order);
        e.CancelReason = reason;
    }

    private struct Taker(Account account, Instrument instrument, long orderId, Side side, Quantity remaining, bool isLiquidation = false)
    {
        public Account? Account = account;
        public bool IsLiquidation = isLiquidation;
        public Money FilledNotional;
        public Instrument? Instrument = instrument;
        public long OrderId = orderId;
        public Side Side = side;
        public Quantity Remaining = remaining;
    }
}
