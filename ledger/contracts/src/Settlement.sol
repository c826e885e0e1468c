// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Settlement
/// @notice Holds the token that callers deposit and pays what the operator's
/// ledger says each account has earned. Once per epoch the operator posts the
/// Merkle root of every account's cumulative earnings; an account claims
/// `cumulative - claimed` with a proof, whenever it likes. One transaction per
/// epoch, whatever the number of accounts.
/// @dev Leaves are OpenZeppelin StandardMerkleTree leaves of
/// (uint256 chainId, address settlement, address account, uint256 cumulative).
contract Settlement {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    address public immutable operator;

    /// @notice Every token ever deposited.
    uint256 public totalDeposited;
    /// @notice The last epoch posted, its root, and the sum of its leaves.
    uint256 public epoch;
    bytes32 public root;
    uint256 public rootTotal;
    /// @notice What each account has claimed so far, cumulatively.
    mapping(address account => uint256) public claimed;
    uint256 public totalClaimed;

    event Deposited(address indexed from, address indexed account, uint256 amount);
    event RootPosted(uint256 indexed epoch, bytes32 root, uint256 total);
    event Claimed(address indexed account, uint256 cumulative, uint256 amount);

    error NotOperator(address caller);
    error StaleEpoch(uint256 last, uint256 given);
    error TotalDecreased(uint256 previous, uint256 given);
    error TotalExceedsDeposits(uint256 total, uint256 deposited);
    error InvalidProof();
    error NothingToClaim(uint256 cumulative, uint256 claimed);
    error ZeroAmount();

    constructor(IERC20 token_, address operator_) {
        token = token_;
        operator = operator_;
    }

    /// @notice Deposits `amount` of the token as credit for `account`.
    function deposit(address account, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        totalDeposited += amount;
        emit Deposited(msg.sender, account, amount);
    }

    /// @notice Posts the root of epoch `epoch_`, which must be later than the
    /// last one posted. Leaves hold cumulative earnings, so a root supersedes
    /// every earlier one and an epoch whose post failed may be skipped.
    /// Cumulative earnings never decrease, so neither may the total, and the
    /// total may never exceed what was deposited.
    function postRoot(uint256 epoch_, bytes32 root_, uint256 total) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        if (epoch_ <= epoch) revert StaleEpoch(epoch, epoch_);
        if (total < rootTotal) revert TotalDecreased(rootTotal, total);
        if (total > totalDeposited) revert TotalExceedsDeposits(total, totalDeposited);
        epoch = epoch_;
        root = root_;
        rootTotal = total;
        emit RootPosted(epoch_, root_, total);
    }

    /// @notice Pays `account` what it earned since its last claim. Anyone may
    /// submit the claim; the tokens always go to `account`.
    function claim(address account, uint256 cumulative, bytes32[] calldata proof) external {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(block.chainid, address(this), account, cumulative))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof();
        uint256 already = claimed[account];
        if (cumulative <= already) revert NothingToClaim(cumulative, already);
        uint256 amount = cumulative - already;
        claimed[account] = cumulative;
        totalClaimed += amount;
        token.safeTransfer(account, amount);
        emit Claimed(account, cumulative, amount);
    }
}
