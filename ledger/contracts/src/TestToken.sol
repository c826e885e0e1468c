// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice The ERC-20 an embedded or development chain settles in. Its
/// deployer mints; on a real network Settlement takes any ERC-20 instead.
contract TestToken is ERC20 {
    address public immutable minter;

    error NotMinter(address caller);

    constructor() ERC20("Tollgate Test Token", "TGT") {
        minter = msg.sender;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }
}
