from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SyncJobRequest(_message.Message):
    __slots__ = ("user_uid", "exchange", "type")
    class SyncType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        INCREMENTAL: _ClassVar[SyncJobRequest.SyncType]
        HISTORICAL: _ClassVar[SyncJobRequest.SyncType]
        FULL: _ClassVar[SyncJobRequest.SyncType]
    INCREMENTAL: SyncJobRequest.SyncType
    HISTORICAL: SyncJobRequest.SyncType
    FULL: SyncJobRequest.SyncType
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    user_uid: str
    exchange: str
    type: SyncJobRequest.SyncType
    def __init__(self, user_uid: _Optional[str] = ..., exchange: _Optional[str] = ..., type: _Optional[_Union[SyncJobRequest.SyncType, str]] = ...) -> None: ...

class SyncJobResponse(_message.Message):
    __slots__ = ("success", "user_uid", "exchange", "synced", "snapshots_generated", "latest_snapshot", "error")
    class Snapshot(_message.Message):
        __slots__ = ("balance", "equity", "timestamp")
        BALANCE_FIELD_NUMBER: _ClassVar[int]
        EQUITY_FIELD_NUMBER: _ClassVar[int]
        TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
        balance: float
        equity: float
        timestamp: int
        def __init__(self, balance: _Optional[float] = ..., equity: _Optional[float] = ..., timestamp: _Optional[int] = ...) -> None: ...
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYNCED_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOTS_GENERATED_FIELD_NUMBER: _ClassVar[int]
    LATEST_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    user_uid: str
    exchange: str
    synced: int
    snapshots_generated: int
    latest_snapshot: SyncJobResponse.Snapshot
    error: str
    def __init__(self, success: _Optional[bool] = ..., user_uid: _Optional[str] = ..., exchange: _Optional[str] = ..., synced: _Optional[int] = ..., snapshots_generated: _Optional[int] = ..., latest_snapshot: _Optional[_Union[SyncJobResponse.Snapshot, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class AggregatedMetricsRequest(_message.Message):
    __slots__ = ("user_uid", "exchange")
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    user_uid: str
    exchange: str
    def __init__(self, user_uid: _Optional[str] = ..., exchange: _Optional[str] = ...) -> None: ...

class AggregatedMetricsResponse(_message.Message):
    __slots__ = ("total_balance", "total_equity", "total_realized_pnl", "total_unrealized_pnl", "total_fees", "total_trades", "last_sync")
    TOTAL_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EQUITY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TRADES_FIELD_NUMBER: _ClassVar[int]
    LAST_SYNC_FIELD_NUMBER: _ClassVar[int]
    total_balance: float
    total_equity: float
    total_realized_pnl: float
    total_unrealized_pnl: float
    total_fees: float
    total_trades: int
    last_sync: int
    def __init__(self, total_balance: _Optional[float] = ..., total_equity: _Optional[float] = ..., total_realized_pnl: _Optional[float] = ..., total_unrealized_pnl: _Optional[float] = ..., total_fees: _Optional[float] = ..., total_trades: _Optional[int] = ..., last_sync: _Optional[int] = ...) -> None: ...

class SnapshotTimeSeriesRequest(_message.Message):
    __slots__ = ("user_uid", "exchange", "start_date", "end_date")
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    user_uid: str
    exchange: str
    start_date: int
    end_date: int
    def __init__(self, user_uid: _Optional[str] = ..., exchange: _Optional[str] = ..., start_date: _Optional[int] = ..., end_date: _Optional[int] = ...) -> None: ...

class SnapshotTimeSeriesResponse(_message.Message):
    __slots__ = ("snapshots",)
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[DailySnapshot]
    def __init__(self, snapshots: _Optional[_Iterable[_Union[DailySnapshot, _Mapping]]] = ...) -> None: ...

class DailySnapshot(_message.Message):
    __slots__ = ("user_uid", "exchange", "timestamp", "total_equity", "realized_balance", "unrealized_pnl", "deposits", "withdrawals", "breakdown")
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EQUITY_FIELD_NUMBER: _ClassVar[int]
    REALIZED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    DEPOSITS_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWALS_FIELD_NUMBER: _ClassVar[int]
    BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    user_uid: str
    exchange: str
    timestamp: int
    total_equity: float
    realized_balance: float
    unrealized_pnl: float
    deposits: float
    withdrawals: float
    breakdown: MarketBreakdown
    def __init__(self, user_uid: _Optional[str] = ..., exchange: _Optional[str] = ..., timestamp: _Optional[int] = ..., total_equity: _Optional[float] = ..., realized_balance: _Optional[float] = ..., unrealized_pnl: _Optional[float] = ..., deposits: _Optional[float] = ..., withdrawals: _Optional[float] = ..., breakdown: _Optional[_Union[MarketBreakdown, _Mapping]] = ...) -> None: ...

class MarketBreakdown(_message.Message):
    __slots__ = ("spot", "swap", "stocks", "futures", "cfd", "forex", "commodities", "options")
    GLOBAL_FIELD_NUMBER: _ClassVar[int]
    SPOT_FIELD_NUMBER: _ClassVar[int]
    SWAP_FIELD_NUMBER: _ClassVar[int]
    STOCKS_FIELD_NUMBER: _ClassVar[int]
    FUTURES_FIELD_NUMBER: _ClassVar[int]
    CFD_FIELD_NUMBER: _ClassVar[int]
    FOREX_FIELD_NUMBER: _ClassVar[int]
    COMMODITIES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    spot: MarketMetrics
    swap: MarketMetrics
    stocks: MarketMetrics
    futures: MarketMetrics
    cfd: MarketMetrics
    forex: MarketMetrics
    commodities: MarketMetrics
    options: MarketMetrics
    def __init__(self, spot: _Optional[_Union[MarketMetrics, _Mapping]] = ..., swap: _Optional[_Union[MarketMetrics, _Mapping]] = ..., stocks: _Optional[_Union[MarketMetrics, _Mapping]] = ..., futures: _Optional[_Union[MarketMetrics, _Mapping]] = ..., cfd: _Optional[_Union[MarketMetrics, _Mapping]] = ..., forex: _Optional[_Union[MarketMetrics, _Mapping]] = ..., commodities: _Optional[_Union[MarketMetrics, _Mapping]] = ..., options: _Optional[_Union[MarketMetrics, _Mapping]] = ..., **kwargs) -> None: ...

class MarketMetrics(_message.Message):
    __slots__ = ("equity", "available_margin", "volume", "trades", "trading_fees", "funding_fees")
    EQUITY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    TRADING_FEES_FIELD_NUMBER: _ClassVar[int]
    FUNDING_FEES_FIELD_NUMBER: _ClassVar[int]
    equity: float
    available_margin: float
    volume: float
    trades: int
    trading_fees: float
    funding_fees: float
    def __init__(self, equity: _Optional[float] = ..., available_margin: _Optional[float] = ..., volume: _Optional[float] = ..., trades: _Optional[int] = ..., trading_fees: _Optional[float] = ..., funding_fees: _Optional[float] = ...) -> None: ...

class CreateUserConnectionRequest(_message.Message):
    __slots__ = ("user_uid", "exchange", "label", "api_key", "api_secret", "passphrase")
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    API_SECRET_FIELD_NUMBER: _ClassVar[int]
    PASSPHRASE_FIELD_NUMBER: _ClassVar[int]
    user_uid: str
    exchange: str
    label: str
    api_key: str
    api_secret: str
    passphrase: str
    def __init__(self, user_uid: _Optional[str] = ..., exchange: _Optional[str] = ..., label: _Optional[str] = ..., api_key: _Optional[str] = ..., api_secret: _Optional[str] = ..., passphrase: _Optional[str] = ...) -> None: ...

class CreateUserConnectionResponse(_message.Message):
    __slots__ = ("success", "user_uid", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    user_uid: str
    error: str
    def __init__(self, success: _Optional[bool] = ..., user_uid: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class HealthCheckRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HealthCheckResponse(_message.Message):
    __slots__ = ("status", "enclave", "version", "uptime")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        HEALTHY: _ClassVar[HealthCheckResponse.Status]
        UNHEALTHY: _ClassVar[HealthCheckResponse.Status]
    HEALTHY: HealthCheckResponse.Status
    UNHEALTHY: HealthCheckResponse.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ENCLAVE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    status: HealthCheckResponse.Status
    enclave: bool
    version: str
    uptime: float
    def __init__(self, status: _Optional[_Union[HealthCheckResponse.Status, str]] = ..., enclave: _Optional[bool] = ..., version: _Optional[str] = ..., uptime: _Optional[float] = ...) -> None: ...

class PerformanceMetricsRequest(_message.Message):
    __slots__ = ("user_uid", "exchange", "start_date", "end_date")
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    user_uid: str
    exchange: str
    start_date: int
    end_date: int
    def __init__(self, user_uid: _Optional[str] = ..., exchange: _Optional[str] = ..., start_date: _Optional[int] = ..., end_date: _Optional[int] = ...) -> None: ...

class PerformanceMetricsResponse(_message.Message):
    __slots__ = ("sharpe_ratio", "sortino_ratio", "calmar_ratio", "volatility", "downside_deviation", "max_drawdown", "max_drawdown_duration", "current_drawdown", "win_rate", "profit_factor", "avg_win", "avg_loss", "period_start", "period_end", "data_points", "success", "error")
    SHARPE_RATIO_FIELD_NUMBER: _ClassVar[int]
    SORTINO_RATIO_FIELD_NUMBER: _ClassVar[int]
    CALMAR_RATIO_FIELD_NUMBER: _ClassVar[int]
    VOLATILITY_FIELD_NUMBER: _ClassVar[int]
    DOWNSIDE_DEVIATION_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_DURATION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    PROFIT_FACTOR_FIELD_NUMBER: _ClassVar[int]
    AVG_WIN_FIELD_NUMBER: _ClassVar[int]
    AVG_LOSS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    DATA_POINTS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    volatility: float
    downside_deviation: float
    max_drawdown: float
    max_drawdown_duration: int
    current_drawdown: float
    win_rate: float
    profit_factor: float
    avg_win: float
    avg_loss: float
    period_start: int
    period_end: int
    data_points: int
    success: bool
    error: str
    def __init__(self, sharpe_ratio: _Optional[float] = ..., sortino_ratio: _Optional[float] = ..., calmar_ratio: _Optional[float] = ..., volatility: _Optional[float] = ..., downside_deviation: _Optional[float] = ..., max_drawdown: _Optional[float] = ..., max_drawdown_duration: _Optional[int] = ..., current_drawdown: _Optional[float] = ..., win_rate: _Optional[float] = ..., profit_factor: _Optional[float] = ..., avg_win: _Optional[float] = ..., avg_loss: _Optional[float] = ..., period_start: _Optional[int] = ..., period_end: _Optional[int] = ..., data_points: _Optional[int] = ..., success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class ReportRequest(_message.Message):
    __slots__ = ("user_uid", "start_date", "end_date", "benchmark", "include_risk_metrics", "include_drawdown", "report_name", "base_currency")
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_RISK_METRICS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    REPORT_NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    user_uid: str
    start_date: str
    end_date: str
    benchmark: str
    include_risk_metrics: bool
    include_drawdown: bool
    report_name: str
    base_currency: str
    def __init__(self, user_uid: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., benchmark: _Optional[str] = ..., include_risk_metrics: _Optional[bool] = ..., include_drawdown: _Optional[bool] = ..., report_name: _Optional[str] = ..., base_currency: _Optional[str] = ...) -> None: ...

class SignedReportResponse(_message.Message):
    __slots__ = ("success", "error", "report_id", "user_uid", "report_name", "generated_at", "period_start", "period_end", "base_currency", "benchmark", "data_points", "exchanges", "total_return", "annualized_return", "volatility", "sharpe_ratio", "sortino_ratio", "max_drawdown", "calmar_ratio", "var_95", "var_99", "expected_shortfall", "skewness", "kurtosis", "alpha", "beta", "information_ratio", "tracking_error", "correlation", "max_drawdown_duration", "current_drawdown", "drawdown_periods", "daily_returns", "monthly_returns", "signature", "public_key", "signature_algorithm", "report_hash", "enclave_version", "attestation_id", "enclave_mode")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_UID_FIELD_NUMBER: _ClassVar[int]
    REPORT_NAME_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    BASE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_FIELD_NUMBER: _ClassVar[int]
    DATA_POINTS_FIELD_NUMBER: _ClassVar[int]
    EXCHANGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RETURN_FIELD_NUMBER: _ClassVar[int]
    ANNUALIZED_RETURN_FIELD_NUMBER: _ClassVar[int]
    VOLATILITY_FIELD_NUMBER: _ClassVar[int]
    SHARPE_RATIO_FIELD_NUMBER: _ClassVar[int]
    SORTINO_RATIO_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    CALMAR_RATIO_FIELD_NUMBER: _ClassVar[int]
    VAR_95_FIELD_NUMBER: _ClassVar[int]
    VAR_99_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHORTFALL_FIELD_NUMBER: _ClassVar[int]
    SKEWNESS_FIELD_NUMBER: _ClassVar[int]
    KURTOSIS_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    BETA_FIELD_NUMBER: _ClassVar[int]
    INFORMATION_RATIO_FIELD_NUMBER: _ClassVar[int]
    TRACKING_ERROR_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_DURATION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    DRAWDOWN_PERIODS_FIELD_NUMBER: _ClassVar[int]
    DAILY_RETURNS_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_RETURNS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    REPORT_HASH_FIELD_NUMBER: _ClassVar[int]
    ENCLAVE_VERSION_FIELD_NUMBER: _ClassVar[int]
    ATTESTATION_ID_FIELD_NUMBER: _ClassVar[int]
    ENCLAVE_MODE_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    report_id: str
    user_uid: str
    report_name: str
    generated_at: str
    period_start: str
    period_end: str
    base_currency: str
    benchmark: str
    data_points: int
    exchanges: _containers.RepeatedScalarFieldContainer[str]
    total_return: float
    annualized_return: float
    volatility: float
    sharpe_ratio: float
    sortino_ratio: float
    max_drawdown: float
    calmar_ratio: float
    var_95: float
    var_99: float
    expected_shortfall: float
    skewness: float
    kurtosis: float
    alpha: float
    beta: float
    information_ratio: float
    tracking_error: float
    correlation: float
    max_drawdown_duration: int
    current_drawdown: float
    drawdown_periods: _containers.RepeatedCompositeFieldContainer[DrawdownPeriodData]
    daily_returns: _containers.RepeatedCompositeFieldContainer[DailyReturnData]
    monthly_returns: _containers.RepeatedCompositeFieldContainer[MonthlyReturnData]
    signature: str
    public_key: str
    signature_algorithm: str
    report_hash: str
    enclave_version: str
    attestation_id: str
    enclave_mode: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ..., report_id: _Optional[str] = ..., user_uid: _Optional[str] = ..., report_name: _Optional[str] = ..., generated_at: _Optional[str] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., base_currency: _Optional[str] = ..., benchmark: _Optional[str] = ..., data_points: _Optional[int] = ..., exchanges: _Optional[_Iterable[str]] = ..., total_return: _Optional[float] = ..., annualized_return: _Optional[float] = ..., volatility: _Optional[float] = ..., sharpe_ratio: _Optional[float] = ..., sortino_ratio: _Optional[float] = ..., max_drawdown: _Optional[float] = ..., calmar_ratio: _Optional[float] = ..., var_95: _Optional[float] = ..., var_99: _Optional[float] = ..., expected_shortfall: _Optional[float] = ..., skewness: _Optional[float] = ..., kurtosis: _Optional[float] = ..., alpha: _Optional[float] = ..., beta: _Optional[float] = ..., information_ratio: _Optional[float] = ..., tracking_error: _Optional[float] = ..., correlation: _Optional[float] = ..., max_drawdown_duration: _Optional[int] = ..., current_drawdown: _Optional[float] = ..., drawdown_periods: _Optional[_Iterable[_Union[DrawdownPeriodData, _Mapping]]] = ..., daily_returns: _Optional[_Iterable[_Union[DailyReturnData, _Mapping]]] = ..., monthly_returns: _Optional[_Iterable[_Union[MonthlyReturnData, _Mapping]]] = ..., signature: _Optional[str] = ..., public_key: _Optional[str] = ..., signature_algorithm: _Optional[str] = ..., report_hash: _Optional[str] = ..., enclave_version: _Optional[str] = ..., attestation_id: _Optional[str] = ..., enclave_mode: _Optional[str] = ...) -> None: ...

class DailyReturnData(_message.Message):
    __slots__ = ("date", "net_return", "benchmark_return", "outperformance", "cumulative_return", "nav")
    DATE_FIELD_NUMBER: _ClassVar[int]
    NET_RETURN_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_RETURN_FIELD_NUMBER: _ClassVar[int]
    OUTPERFORMANCE_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_RETURN_FIELD_NUMBER: _ClassVar[int]
    NAV_FIELD_NUMBER: _ClassVar[int]
    date: str
    net_return: float
    benchmark_return: float
    outperformance: float
    cumulative_return: float
    nav: float
    def __init__(self, date: _Optional[str] = ..., net_return: _Optional[float] = ..., benchmark_return: _Optional[float] = ..., outperformance: _Optional[float] = ..., cumulative_return: _Optional[float] = ..., nav: _Optional[float] = ...) -> None: ...

class MonthlyReturnData(_message.Message):
    __slots__ = ("date", "net_return", "benchmark_return", "outperformance", "aum")
    DATE_FIELD_NUMBER: _ClassVar[int]
    NET_RETURN_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_RETURN_FIELD_NUMBER: _ClassVar[int]
    OUTPERFORMANCE_FIELD_NUMBER: _ClassVar[int]
    AUM_FIELD_NUMBER: _ClassVar[int]
    date: str
    net_return: float
    benchmark_return: float
    outperformance: float
    aum: float
    def __init__(self, date: _Optional[str] = ..., net_return: _Optional[float] = ..., benchmark_return: _Optional[float] = ..., outperformance: _Optional[float] = ..., aum: _Optional[float] = ...) -> None: ...

class DrawdownPeriodData(_message.Message):
    __slots__ = ("start_date", "end_date", "depth", "duration", "recovered")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_FIELD_NUMBER: _ClassVar[int]
    start_date: str
    end_date: str
    depth: float
    duration: int
    recovered: bool
    def __init__(self, start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., depth: _Optional[float] = ..., duration: _Optional[int] = ..., recovered: _Optional[bool] = ...) -> None: ...

class VerifySignatureRequest(_message.Message):
    __slots__ = ("report_hash", "signature", "public_key")
    REPORT_HASH_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    report_hash: str
    signature: str
    public_key: str
    def __init__(self, report_hash: _Optional[str] = ..., signature: _Optional[str] = ..., public_key: _Optional[str] = ...) -> None: ...

class VerifySignatureResponse(_message.Message):
    __slots__ = ("valid", "error")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    error: str
    def __init__(self, valid: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...
