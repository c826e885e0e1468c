// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Settlement
/// @notice Holds the token that callers deposit and pays what the operator's
/// ledger says each account has earned. Once per epoch the operator posts the
/// Merkle root of every account's cumulative earnings, with the hash of the
/// receipt bundle it was built from; an account claims `cumulative - claimed`
/// with a proof, whenever it likes. One transaction per epoch, whatever the
/// number of accounts.
///
/// The operator is not trusted blindly: a posted root becomes claimable only
/// after `challengeDelay` seconds, during which the guardian may veto it;
/// claims keep working against the previous root meanwhile. The guardian can
/// pause deposits and claims, and can replace the operator after
/// `rotationDelay` seconds, so a lost or stolen operator key does not freeze
/// or drain the deposits.
/// @dev Leaves are OpenZeppelin StandardMerkleTree leaves of
/// (uint256 chainId, address settlement, address account, uint256 cumulative).
contract Settlement {
    using SafeERC20 for IERC20;

    /// @notice How far past the last epoch a root may jump: far enough for
    /// any skipped posts, too little to exhaust the epoch counter.
    uint256 public constant MAX_EPOCH_GAP = 1_000_000;

    /// @notice The longest challenge or rotation delay: a year. A longer
    /// one would serve no one, and the maturity of a pending root is kept
    /// in 64 bits, which a delay near 2^64 would overflow.
    uint256 public constant MAX_DELAY = 365 days;

    IERC20 public immutable token;
    uint256 public immutable challengeDelay;
    uint256 public immutable rotationDelay;

    address public operator;
    address public guardian;

    /// @notice Every token ever received as a deposit.
    uint256 public totalDeposited;

    /// @notice A posted root: its epoch, the Merkle root, the sum of its
    /// leaves, the chained hash of the receipt bundle it was built from, and
    /// the time it becomes claimable.
    struct Root {
        uint256 epoch;
        bytes32 root;
        uint256 total;
        bytes32 bundle;
        uint256 claimableAt;
    }

    /// @dev Two root slots used in turn: `slot` (1 or 2, never 0, so that
    /// flipping it rewrites a non-zero word) names the current one, and the
    /// other holds the pending root while `hasPending`. Promotion flips
    /// `slot` instead of copying five words: on chains that price new
    /// storage high, a copy into empty slots made a claim that happened to
    /// promote a root cost several times its estimate. Everything a claim
    /// checks before its proof (pause, a pending root and when it matures,
    /// which slot is current) sits in this one word, read once.
    struct Control {
        uint8 slot;
        bool paused;
        bool hasPending;
        uint64 pendingAt;
    }

    Root[2] private roots;
    Control private ctl = Control(1, false, false, 0);

    /// @notice What each account has claimed so far, cumulatively. The
    /// contract's token balance is totalDeposited less their sum.
    mapping(address account => uint256) public claimed;

    /// @notice A proposed operator and when it may take over.
    address public nextOperator;
    uint256 public nextOperatorAt;

    event Deposited(address indexed from, address indexed account, uint256 amount);
    event RootPosted(uint256 indexed epoch, bytes32 root, uint256 total, bytes32 bundle, uint256 claimableAt);
    event RootVetoed(uint256 indexed epoch, bytes32 root);
    event Claimed(address indexed account, uint256 cumulative, uint256 amount);
    event Paused(bool paused);
    event OperatorProposed(address indexed operator, uint256 at);
    /// @notice Receipts of epochs from `fromEpoch` on are signed by `operator`.
    event OperatorChanged(address indexed previous, address indexed operator, uint256 fromEpoch);
    event GuardianChanged(address indexed previous, address indexed guardian);

    error NotOperator(address caller);
    error NotGuardian(address caller);
    error ZeroAddress();
    error ZeroAmount();
    error IsPaused();
    error StaleEpoch(uint256 last, uint256 given);
    error EpochJump(uint256 last, uint256 given);
    error TotalDecreased(uint256 previous, uint256 given);
    error TotalExceedsDeposits(uint256 total, uint256 deposited);
    error NoPendingRoot(uint256 epoch);
    error InvalidProof();
    error NothingToClaim(uint256 cumulative, uint256 claimed);
    error NoOperatorProposed();
    error RotationNotReady(uint256 at);
    error DelayTooLong(uint256 max);

    constructor(IERC20 token_, address operator_, address guardian_, uint256 challengeDelay_, uint256 rotationDelay_) {
        if (address(token_) == address(0) || operator_ == address(0) || guardian_ == address(0)) revert ZeroAddress();
        if (challengeDelay_ > MAX_DELAY || rotationDelay_ > MAX_DELAY) revert DelayTooLong(MAX_DELAY);
        token = token_;
        operator = operator_;
        guardian = guardian_;
        challengeDelay = challengeDelay_;
        rotationDelay = rotationDelay_;
        emit OperatorChanged(address(0), operator_, 1);
        emit GuardianChanged(address(0), guardian_);
    }

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        _;
    }

    modifier onlyGuardian() {
        if (msg.sender != guardian) revert NotGuardian(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (ctl.paused) revert IsPaused();
        _;
    }

    /// @notice Whether deposits and claims are paused.
    function paused() external view returns (bool) {
        return ctl.paused;
    }

    /// @notice Deposits `amount` of the token as credit for `account`. The
    /// deposit counts what the contract actually received, so a token that
    /// takes a fee on transfer cannot inflate the deposits.
    function deposit(address account, uint256 amount) external whenNotPaused {
        if (account == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received == 0) revert ZeroAmount();
        totalDeposited += received;
        emit Deposited(msg.sender, account, received);
    }

    /// @notice Posts the root of epoch `epoch_`, later than the last one
    /// posted (pending or current) by at most MAX_EPOCH_GAP. Leaves hold
    /// cumulative earnings, so a root supersedes every earlier one, and a
    /// root still pending is replaced. The total may never decrease, nor
    /// exceed what was deposited.
    function postRoot(uint256 epoch_, bytes32 root_, uint256 total, bytes32 bundle) external onlyOperator {
        _promote();
        Control memory c = ctl;
        Root storage cur = roots[c.slot - 1];
        uint256 last = c.hasPending ? roots[2 - c.slot].epoch : cur.epoch;
        if (epoch_ <= last) revert StaleEpoch(last, epoch_);
        if (epoch_ - last > MAX_EPOCH_GAP) revert EpochJump(last, epoch_);
        if (total < cur.total) revert TotalDecreased(cur.total, total);
        if (total > totalDeposited) revert TotalExceedsDeposits(total, totalDeposited);
        uint256 at = block.timestamp + challengeDelay;
        roots[2 - c.slot] = Root(epoch_, root_, total, bundle, at);
        if (challengeDelay == 0) {
            ctl.slot = 3 - c.slot;
            ctl.hasPending = false;
        } else {
            ctl.hasPending = true;
            ctl.pendingAt = uint64(at);
        }
        emit RootPosted(epoch_, root_, total, bundle, at);
    }

    /// @notice The guardian vetoes the pending root of `epoch_`; claims go on
    /// against the current root, and the operator may post again.
    function veto(uint256 epoch_) external onlyGuardian {
        _promote();
        Root storage p = roots[2 - ctl.slot];
        if (!ctl.hasPending || p.epoch != epoch_) revert NoPendingRoot(epoch_);
        emit RootVetoed(epoch_, p.root);
        ctl.hasPending = false;
    }

    /// @notice Pauses or resumes deposits and claims.
    function setPaused(bool paused_) external onlyGuardian {
        ctl.paused = paused_;
        emit Paused(paused_);
    }

    /// @notice Proposes a new operator, who may take over after rotationDelay.
    function proposeOperator(address next) external onlyGuardian {
        if (next == address(0)) revert ZeroAddress();
        nextOperator = next;
        nextOperatorAt = block.timestamp + rotationDelay;
        emit OperatorProposed(next, nextOperatorAt);
    }

    /// @notice Installs the proposed operator once its delay has passed. A
    /// root still pending was posted by the previous operator and is dropped.
    function rotateOperator() external {
        if (nextOperator == address(0)) revert NoOperatorProposed();
        if (block.timestamp < nextOperatorAt) revert RotationNotReady(nextOperatorAt);
        _promote();
        if (ctl.hasPending) {
            Root storage p = roots[2 - ctl.slot];
            emit RootVetoed(p.epoch, p.root);
            ctl.hasPending = false;
        }
        emit OperatorChanged(operator, nextOperator, roots[ctl.slot - 1].epoch + 1);
        operator = nextOperator;
        delete nextOperator;
        delete nextOperatorAt;
    }

    /// @notice Hands the guardian role to another address (say, a multisig).
    function setGuardian(address next) external onlyGuardian {
        if (next == address(0)) revert ZeroAddress();
        emit GuardianChanged(guardian, next);
        guardian = next;
    }

    /// @notice Makes the pending root current once its delay has passed.
    function promote() external {
        _promote();
    }

    /// @dev Makes a matured pending root current and returns the current
    /// slot.
    function _promote() internal returns (uint8) {
        Control memory c = ctl;
        if (c.hasPending && block.timestamp >= c.pendingAt) {
            c.slot = 3 - c.slot;
            ctl.slot = c.slot;
            ctl.hasPending = false;
        }
        return c.slot;
    }

    /// @notice The root claims are proven against.
    function current()
        external
        view
        returns (uint256 epoch_, bytes32 root_, uint256 total, bytes32 bundle, uint256 claimableAt)
    {
        Root storage r = roots[ctl.slot - 1];
        return (r.epoch, r.root, r.total, r.bundle, r.claimableAt);
    }

    /// @notice The root waiting out its challenge delay (all zero if none).
    function pending()
        external
        view
        returns (uint256 epoch_, bytes32 root_, uint256 total, bytes32 bundle, uint256 claimableAt)
    {
        if (!ctl.hasPending) return (0, 0, 0, 0, 0);
        Root storage r = roots[2 - ctl.slot];
        return (r.epoch, r.root, r.total, r.bundle, r.claimableAt);
    }

    /// @notice The last root posted, pending or current: what the next post
    /// must follow.
    function latest() external view returns (uint256 epoch_, bytes32 root_, uint256 total) {
        Root storage r = ctl.hasPending ? roots[2 - ctl.slot] : roots[ctl.slot - 1];
        return (r.epoch, r.root, r.total);
    }

    /// @notice Pays `account` what it earned since its last claim, proven
    /// against the current root (a matured pending root first becomes
    /// current). Anyone may submit the claim; the tokens always go to
    /// `account`.
    function claim(address account, uint256 cumulative, bytes32[] calldata proof) external whenNotPaused {
        uint8 cur = _promote();
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(block.chainid, address(this), account, cumulative))));
        if (!MerkleProof.verifyCalldata(proof, roots[cur - 1].root, leaf)) revert InvalidProof();
        uint256 already = claimed[account];
        if (cumulative <= already) revert NothingToClaim(cumulative, already);
        uint256 amount = cumulative - already;
        claimed[account] = cumulative;
        token.safeTransfer(account, amount);
        emit Claimed(account, cumulative, amount);
    }
}
